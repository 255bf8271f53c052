"""The vocabulary module is the one source of the project's words: presets, CLI choices and add-on enums agree."""

from __future__ import annotations

import argparse

from pipeline.core import vocab


def test_presets_match_the_vocabulary():
    from pipeline.core.body.poses import POSES
    from pipeline.core.body.sizes import SIZES
    from pipeline.core.fit.fabrics import FABRICS

    assert set(POSES) == set(vocab.POSES)
    assert set(FABRICS) >= set(vocab.FABRICS)
    assert SIZES == vocab.SIZES


def _choices(verb: str, flag: str) -> tuple:
    from pipeline.app.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    action = next(a for a in sub.choices[verb]._actions if flag in a.option_strings)
    return tuple(action.choices)


def test_cli_choices_come_from_the_vocabulary():
    assert _choices("avatar", "--size") == vocab.SIZES
    assert _choices("avatar", "--sex") == vocab.SEXES
    assert _choices("avatar", "--pose") == vocab.POSES
    assert _choices("render", "--view") == vocab.VIEWS
    assert _choices("tryon", "--type") == vocab.GARMENT_TYPES


def test_enum_items_are_blender_triples():
    items = vocab.enum_items(vocab.VIEWS)
    assert [i[0] for i in items] == list(vocab.VIEWS)
    assert all(len(i) == 3 and all(isinstance(x, str) for x in i) for i in items)
