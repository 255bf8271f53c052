"""Try-On add-on: the "Try-On" sidebar in the 3D viewport. Thin by design: properties, operators, panels and
preferences; every button calls the same `pipeline` function as the matching CLI verb."""

from . import operators, panels, preferences, properties

_modules = (preferences, properties, operators, panels)


def register() -> None:
    for mod in _modules:
        mod.register()


def unregister() -> None:
    for mod in reversed(_modules):
        mod.unregister()
