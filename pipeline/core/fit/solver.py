"""Quasi-static cloth drape: position-based dynamics with stretch and (weak) compression distance constraints
and bending (dihedral XPBD hinges per fabric, `bending.py`, or the older distance constraints between the
vertices opposite each edge), solved Gauss-Seidel (compiled with Warp, or numpy by constraint colouring), gravity,
body collision against the body's signed-distance field with a skin offset, Coulomb friction, strain limiting,
vertex-vertex self-repulsion and (optional, compiled) vertex-triangle and edge-edge contact with itself and the
body."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.spatial import cKDTree

from pipeline.core.fit.bending import hinge_angles, hinge_stiffness, hinges, project_hinges, vertex_masses
from pipeline.core.fit.bodyfield import BodyField
from pipeline.core.fit.fabrics import Fabric
from pipeline.core.progress import ProgressCallback, silent
from pipeline.core.topology import unique_edges


@dataclasses.dataclass
class DrapeSettings:
    offset_m: float = 0.0025  # skin offset kept between cloth and body
    steps: int = 36
    min_steps: int = 12  # never stop before this many steps (the start shape's own strain settles first)
    iterations: int = 12
    dt: float = 1 / 150
    gravity: tuple[float, float, float] = (0.0, 0.0, -9.81)
    self_collision: bool = True
    thickness_m: float = 0.004
    tol_m: float = 5e-5  # stop when no vertex moves more than this in a step
    creep_m: float | None = (
        None  # ... or when the mean move per step falls below this (default: one free-fall
    )
    # step, and the max below 40 tol): the cloth is supported on average and what is left is the slow gravity
    # creep of position-based cloth, not a change anyone can see
    inertia: bool = False  # carry velocity between steps (a dynamic fall) instead of a quasi-static settle
    backend: str = "auto"  # "warp" (compiled CPU kernels), "numpy", or "auto" (warp when it imports)
    gravity_after: int = 0  # steps without gravity first (sewing panels together, as GarmentCode does)
    body_through_cloth: bool = True  # also push cloth triangles off body vertices standing out through them
    # "dihedral": XPBD hinges on the angle between neighbouring triangles with the fabric's bending rigidity
    # (`bending.py`: folds per fabric, whatever the mesh size); "distance": the older distance constraints
    # between the vertices opposite each edge (a per-iteration factor; stiffens the membrane against buckling)
    bending: str = "distance"
    # a smooth, seeded out-of-plane nudge of the start shape (amplitude in m; 0: none): a perfectly symmetric
    # start is an equilibrium a quasi-static settle never leaves, so excess cloth would stay held out instead of
    # buckling into folds. Deterministic: the same seed gives the same folds.
    perturb_m: float = 0.0
    seed: int = 0
    # vertex-triangle self-contact (compiled backend only) on top of the vertex-vertex repulsion: cloth vertices
    # kept `thickness_m` off the cloth's own triangles, on the side they came from, so folds do not pass through
    # each other between vertices
    self_triangles: bool = False
    # edge-edge contact (compiled backend only): cloth edges kept half `thickness_m` off the cloth's own edges and
    # `offset_m` off the body's edges, on the side they came from, so two folds (or a fold and a body ridge) do
    # not pass through each other where no vertex comes near a triangle (crossing edges)
    edge_edge: bool = False
    edge_edge_every: int = 8  # steps between edge-edge passes (each checks the motion since the last one)
    # velocity kept per step with `inertia` (None: the fabric's `damping`, 0.85-0.93, which stops a fall within
    # some ten steps; a hanging skirt's flare needs nearer 1 to fall in round the legs and buckle)
    damping: float | None = None

    @property
    def gravity_step_m(self) -> float:
        return float(np.linalg.norm(self.gravity)) * self.dt * self.dt


def bend_pairs(faces: np.ndarray) -> np.ndarray:
    """For each interior edge, the two vertices opposite it (their distance resists folding)."""
    e = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    opp = np.concatenate([faces[:, 2], faces[:, 0], faces[:, 1]])
    key = np.sort(e, axis=1)
    order = np.lexsort((key[:, 1], key[:, 0]))
    k = key[order]
    same = np.all(k[1:] == k[:-1], axis=1)
    idx = np.nonzero(same)[0]
    pairs = np.stack([opp[order[idx]], opp[order[idx + 1]]], axis=1)
    return pairs[pairs[:, 0] != pairs[:, 1]]


def flat_bend_rest(
    faces: np.ndarray, edges: np.ndarray, edge_rest: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bending pairs (as `bend_pairs`, same order) with rest distances of the two triangles unfolded flat from
    the edge rest lengths alone: a sewn pattern has no flat embedding, but each pair of triangles has, and a
    seam at rest is flat too."""
    n = int(faces.max()) + 1
    key = edges[:, 0].astype(np.int64) * n + edges[:, 1]
    order_e = np.argsort(key)

    def length(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)
        return edge_rest[order_e[np.searchsorted(key[order_e], k)]]

    e = np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    opp = np.concatenate([faces[:, 2], faces[:, 0], faces[:, 1]])
    k2 = np.sort(e, axis=1)
    order = np.lexsort((k2[:, 1], k2[:, 0]))
    k = k2[order]
    idx = np.nonzero(np.all(k[1:] == k[:-1], axis=1))[0]
    i, j = k[idx, 0], k[idx, 1]
    a, b = opp[order[idx]], opp[order[idx + 1]]
    keep = a != b
    i, j, a, b = i[keep], j[keep], a[keep], b[keep]
    lij, lia, lja, lib, ljb = length(i, j), length(i, a), length(j, a), length(i, b), length(j, b)
    xa = (lij**2 + lia**2 - lja**2) / (2 * lij)
    xb = (lij**2 + lib**2 - ljb**2) / (2 * lij)
    ya = np.sqrt(np.maximum(lia**2 - xa**2, 0.0))
    yb = -np.sqrt(np.maximum(lib**2 - xb**2, 0.0))
    return np.stack([a, b], 1), np.hypot(xa - xb, ya - yb)


def colour_constraints(pairs: np.ndarray, n_vertices: int) -> list[np.ndarray]:
    """Split constraints into groups that share no vertex, so each group is solved in one vector step."""
    colour = np.full(len(pairs), -1)
    used = [set() for _ in range(n_vertices)]
    for c, (a, b) in enumerate(pairs):
        taken = used[a] | used[b]
        k = 0
        while k in taken:
            k += 1
        colour[c] = k
        used[a].add(k)
        used[b].add(k)
    return [np.nonzero(colour == k)[0] for k in range(colour.max() + 1)]


def smooth_nudge(
    x: np.ndarray, faces: np.ndarray, edges: np.ndarray, amplitude_m: float, seed: int, smooth: int = 6
) -> np.ndarray:
    """A seeded random displacement along the vertex normals, smoothed over the mesh (`smooth` Jacobi passes
    over the edges: bumps a few edges wide, not per-vertex noise that would read as crumpling), largest
    magnitude `amplitude_m`."""
    r = np.random.default_rng(seed).standard_normal(len(x))
    deg = np.bincount(edges.ravel(), minlength=len(x)).astype(float)
    for _ in range(smooth):
        acc = np.zeros(len(x))
        np.add.at(acc, edges[:, 0], r[edges[:, 1]])
        np.add.at(acc, edges[:, 1], r[edges[:, 0]])
        r = 0.5 * r + 0.5 * acc / np.maximum(deg, 1.0)
    r *= amplitude_m / max(float(np.abs(r).max()), 1e-12)
    fn = np.cross(x[faces[:, 1]] - x[faces[:, 0]], x[faces[:, 2]] - x[faces[:, 0]])
    vn = np.zeros_like(x)
    for k in range(3):
        np.add.at(vn, faces[:, k], fn)
    vn /= np.maximum(np.linalg.norm(vn, axis=1, keepdims=True), 1e-12)
    return vn * r[:, None]


class ClothSolver:
    """Cloth on a body: distance constraints (edges: stretch/compression; with `bending="distance"` also the
    vertices opposite each edge) and, with `bending="dihedral"`, XPBD hinges, built once from the rest shape;
    then `settle` runs quasi-static PBD steps from a start shape. `edge_limit`
    (per edge, default 1 + the fabric's max strain) caps stretch, e.g. tighter on a waistband. `pinned` (per
    vertex) holds points where the start puts them (a skirt's waistband): the compiled solve moves only the
    free end of a constraint, the hinges treat them as infinitely heavy, and each step ends with them reset.
    `tethers` = (points, anchors, rest distances): long-range attachments to pinned anchors (`_tether`), applied
    after each step's sweeps."""

    def __init__(
        self,
        faces: np.ndarray,
        rest_vertices: np.ndarray,
        fabric: Fabric,
        field: BodyField,
        settings: DrapeSettings | None = None,
        rest_edge_lengths: np.ndarray | None = None,
        edge_limit: np.ndarray | None = None,
        seams: np.ndarray | None = None,
        seam_k: float = 0.5,
        flat_rest: bool = False,
        pinned: np.ndarray | None = None,
        tethers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ):
        self.faces = np.asarray(faces, dtype=np.int64)
        self.n = len(rest_vertices)
        self.fabric = fabric
        self.field = field
        self.s = settings or DrapeSettings()
        edges = unique_edges(self.faces)
        rest = np.asarray(rest_vertices, dtype=np.float64)
        geo = np.linalg.norm(rest[edges[:, 1]] - rest[edges[:, 0]], axis=1)
        el = geo if rest_edge_lengths is None else np.asarray(rest_edge_lengths, dtype=np.float64)
        dihedral = self.s.bending == "dihedral"
        if dihedral:  # bending is carried by the hinges alone
            bends, bl = np.zeros((0, 2), np.int64), np.zeros(0)
        elif flat_rest:  # a sewn pattern: flat at rest everywhere, seams included
            bends, bl = flat_bend_rest(self.faces, edges, el)
        else:
            bends = bend_pairs(self.faces)
            bl = np.linalg.norm(rest[bends[:, 1]] - rest[bends[:, 0]], axis=1)
            if rest_edge_lengths is not None:  # rest shape differs from the pattern: scale bend rests alike
                bl = bl * float(np.median(el / np.maximum(geo, 1e-9)))
        self.edges = edges
        self.edge_rest = el
        self.bends = bends
        self.bend_rest = bl
        self.mean_edge = float(el.mean())
        n_e, n_b = len(edges), len(bends)
        self.edge_limit = (
            np.full(n_e, 1.0 + fabric.max_strain) if edge_limit is None else np.asarray(edge_limit, float)
        )
        # sewing springs (loose panels only): pairs of panel points to be pulled together, rest length set per
        # step by `sew_to` (from their start distance down to 0), stiff in both directions and held at that rest
        # by the strain-limiting passes (a sewn seam does not open under the garment's weight)
        seams = np.zeros((0, 2), np.int64) if seams is None else np.asarray(seams, dtype=np.int64)
        n_s = len(seams)
        self.seam_slice = slice(n_e + n_b, n_e + n_b + n_s)
        self.pairs = np.vstack([edges, bends, seams])
        self.rest_all = np.r_[el, bl, np.zeros(n_s)]
        self.n_e = n_e
        self.k_stretch = np.r_[np.full(n_e, fabric.stretch), np.full(n_b, fabric.bend), np.full(n_s, seam_k)]
        # with dihedral bending the membrane resists shortening as it resists stretch (cloth keeps its length
        # in-plane; excess length has to buckle out of plane, where the soft hinges let it fold); the distance
        # model keeps its weak compression (its bend pairs would otherwise lock the sheet against folding)
        k_c = fabric.stretch if dihedral else fabric.compress
        self.k_compress = np.r_[np.full(n_e, k_c), np.full(n_b, fabric.bend), np.full(n_s, seam_k)]
        self._init_hinges(rest, el, geo, flat_rest if dihedral else None)
        # pinned points (e.g. a skirt's waistband, as Blender artists pin one) stay where the start puts them
        self.pinned = None if pinned is None else np.asarray(pinned, bool)
        self.tethers = tethers
        free = None
        if self.pinned is not None:
            free = (~self.pinned).astype(float)
            self.inv_mass = self.inv_mass * free
        self.wc = None
        use_warp = False
        if self.s.backend in ("auto", "warp"):
            from pipeline.core.fit.warp_kernels import WarpCloth, warp

            use_warp = warp() is not None
        # the compiled solver runs Gauss-Seidel serially in constraint order; numpy needs vertex-disjoint groups
        self.groups = [np.arange(len(self.pairs))] if use_warp else colour_constraints(self.pairs, self.n)
        if self.s.backend in ("auto", "warp"):
            if use_warp:
                self.wc = WarpCloth(
                    self.pairs,
                    self.rest_all,
                    self.k_stretch,
                    self.k_compress,
                    self.groups,
                    field.vertices,
                    field.faces,
                    np.r_[self.edge_limit, np.zeros(n_b), np.ones(n_s)],  # seams: hard at their current rest
                    mesh=field._bvh.mesh if field._bvh is not None else None,
                    hinges=self.hinges,
                    hinge_rest=self.hinge_rest,
                    hinge_alpha=self.hinge_alpha,
                    inv_mass=self.inv_mass,
                    free=free,
                )
            elif self.s.backend == "warp":
                raise RuntimeError("the warp backend was asked for but warp does not import")
        lo, hi = self.pairs.min(1), self.pairs.max(1)
        self._near_keys = np.unique(lo * self.n + hi)  # constrained pairs never repel each other

    def _init_hinges(self, rest: np.ndarray, el: np.ndarray, geo: np.ndarray, flat_rest: bool | None) -> None:
        """Dihedral hinges (none unless `flat_rest` is a bool, i.e. the settings ask for dihedral bending): rest
        angles 0 for a sewn pattern (flat everywhere, seams included) or those of the rest shape; per-hinge XPBD
        compliance / dt^2 from the fabric's rigidity and vertex masses from its density, on the rest shape
        scaled to the rest edge lengths."""
        if flat_rest is None:
            self.hinges = np.zeros((0, 4), np.int64)
            self.hinge_rest = self.hinge_alpha = np.zeros(0)
            self.inv_mass = np.ones(self.n)
            return
        self.hinges = hinges(self.faces)
        self.hinge_rest = np.zeros(len(self.hinges)) if flat_rest else hinge_angles(rest, self.hinges)
        scale = float(np.median(el / np.maximum(geo, 1e-9)))  # rest shape to rest lengths (a pattern's)
        k = hinge_stiffness(rest * scale, self.faces, self.hinges, self.fabric.bend_rigidity_nm)
        self.hinge_alpha = 1.0 / np.maximum(k * self.s.dt**2, 1e-30)
        self.inv_mass = 1.0 / vertex_masses(rest * scale, self.faces, self.fabric.density_kg_m2)

    def sew_to(self, seam_rest: np.ndarray) -> None:
        """Set the sewing springs' rest lengths (shrunk step by step so the panels close round the body rather than
        jumping through it)."""
        self.rest_all[self.seam_slice] = seam_rest
        if self.wc is not None:  # the compiled solver keeps constraints in their original order
            self.wc.rest.numpy()[self.seam_slice] = seam_rest

    def _project(self, p: np.ndarray) -> None:
        """One Gauss-Seidel sweep over all distance constraints, one vertex-disjoint colour group at a time."""
        for g in self.groups:
            i, j = self.pairs[g, 0], self.pairs[g, 1]
            d = p[j] - p[i]
            length = np.sqrt((d * d).sum(1))
            c = length - self.rest_all[g]
            k = np.where(c > 0, self.k_stretch[g], self.k_compress[g])
            corr = (0.5 * k * c / np.maximum(length, 1e-12))[:, None] * d
            p[i] += corr
            p[j] -= corr

    def _limit_strain(self, p: np.ndarray, passes: int = 2) -> None:
        """Strain limiting (Jacobi): pull edges stretched beyond the fabric's limit back toward it."""
        limit = self.edge_limit
        e = self.edges
        for _ in range(passes):
            d = p[e[:, 1]] - p[e[:, 0]]
            length = np.sqrt((d * d).sum(1))
            c = np.maximum(length - limit * self.edge_rest, 0.0)
            if not c.any():
                return
            corr = (0.5 * c / np.maximum(length, 1e-12))[:, None] * d
            delta = np.zeros_like(p)
            cnt = np.zeros(len(p))
            np.add.at(delta, e[:, 0], corr)
            np.add.at(delta, e[:, 1], -corr)
            np.add.at(cnt, e[:, 0], c > 0)
            np.add.at(cnt, e[:, 1], c > 0)
            p += delta / np.maximum(cnt, 1)[:, None]

    def _self_pairs(self, p: np.ndarray) -> np.ndarray:
        pairs = cKDTree(p).query_pairs(self.s.thickness_m, output_type="ndarray")
        if len(pairs) == 0:
            return pairs
        key = pairs.min(1).astype(np.int64) * self.n + pairs.max(1)
        at = np.minimum(np.searchsorted(self._near_keys, key), len(self._near_keys) - 1)  # keys are sorted
        return pairs[self._near_keys[at] != key]

    def _repel(self, p: np.ndarray, pairs: np.ndarray) -> None:
        if len(pairs) == 0:
            return
        i, j = pairs[:, 0], pairs[:, 1]
        d = p[j] - p[i]
        length = np.sqrt((d * d).sum(1))
        c = np.minimum(length - self.s.thickness_m, 0.0)
        corr = (0.5 * c / np.maximum(length, 1e-12))[:, None] * d
        np.add.at(p, i, corr)
        np.add.at(p, j, -corr)

    def _contact(self, p: np.ndarray, x: np.ndarray, push: np.ndarray | None = None) -> np.ndarray:
        """Exact collision at the end of a step: lift points below the offset surface onto it, with
        Coulomb friction (slip under mu times the normal correction is removed entirely; the correction
        includes `push`, what the contact planes pushed during the step's iterations)."""
        c = self.field.closest(p)
        touching = c.signed_distance < self.s.offset_m + 1e-3
        pushed = np.zeros(len(p)) if push is None else push
        idx = np.nonzero((c.signed_distance < self.s.offset_m + 1e-4) | (pushed > 0))[0]
        if not len(idx):
            return touching
        n = c.normals[idx]
        lift = np.maximum(self.s.offset_m - c.signed_distance[idx], 0.0) + pushed[idx]
        p[idx] = c.points[idx] + n * np.maximum(c.signed_distance[idx], self.s.offset_m)[:, None]
        move = p[idx] - x[idx]
        tang = move - np.einsum("ij,ij->i", move, n)[:, None] * n
        t_len = np.sqrt((tang * tang).sum(1))
        mu_d = self.fabric.friction * np.maximum(lift, 0.5 * self.s.gravity_step_m)
        keep = np.where(t_len <= mu_d, 0.0, 1.0 - mu_d / np.maximum(t_len, 1e-12))
        p[idx] -= (1.0 - keep)[:, None] * tang
        return touching

    def _numpy_step(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """One step's constraint solve in numpy (the fallback when Warp is unavailable)."""
        s = self.s
        c = self.field.closest(y)
        near = c.signed_distance < s.offset_m + 2.0 * self.mean_edge
        idx = np.nonzero(near)[0]
        cp, cn = c.points[idx], c.normals[idx]
        p = y.copy()
        push = np.zeros(len(p))
        lam = np.zeros(len(self.hinges))
        for _ in range(s.iterations):
            self._project(p)
            if len(self.hinges):
                project_hinges(p, self.hinges, self.hinge_rest, self.inv_mass, self.hinge_alpha, lam)
            # one-sided contact against the tangent planes of the nearest body points
            q = p[idx]
            depth = np.minimum(np.einsum("ij,ij->i", q - cp, cn) - s.offset_m, 0.0)
            p[idx] = q - depth[:, None] * cn
            push[idx] -= depth
        if self.tethers is not None:
            self._tether(p)
        self._limit_strain(p)
        if s.self_collision:
            self._repel(p, self._self_pairs(p))
        touching = self._contact(p, x, push)
        return p, touching

    def _tether(self, p: np.ndarray) -> None:
        """Long-range attachments (Kim, Chentanez and Mueller 2012): each tethered point pulled back onto the
        sphere round its anchor (a pinned point) when it has strayed further than its rest distance, so a
        hanging cloth does not stretch under its own weight however few sweeps a step gets."""
        i, a, r = self.tethers
        d = p[i] - p[a]
        length = np.sqrt((d * d).sum(1))
        over = length > r
        if over.any():
            p[i[over]] -= d[over] * (1.0 - r[over] / length[over])[:, None]

    def _final_contact(self, x: np.ndarray, passes: int = 3) -> np.ndarray:
        """The last word on contact, after the constraint sweeps can no longer undo it: cloth vertices pushed
        out of the body, then cloth triangles pushed off body vertices standing out through them (skin showing
        between cloth vertices where a coarse cloth chords a convex body), a few times over."""
        x = self.field.push_out(x, self.s.offset_m * 0.8, iterations=4)
        if self.wc is None or not self.s.body_through_cloth:
            return x
        wp = self.wc.wp
        p_wp = wp.array(x.astype(np.float32), dtype=wp.vec3, device="cpu")
        for _ in range(passes):
            self.wc.push_cloth_off_body(
                p_wp, self.faces, self.field.vnormals, self.s.offset_m, 0.02, 0.6 * self.mean_edge
            )
        wp.synchronize()
        return self.field.push_out(p_wp.numpy().astype(np.float64), self.s.offset_m * 0.8, iterations=2)

    def settle(
        self,
        x0: np.ndarray,
        progress: ProgressCallback = silent,
        steps: int | None = None,
        before_step=None,
    ) -> tuple[np.ndarray, dict]:
        """Let the cloth fall and settle onto the body from start positions x0; returns (positions, info).

        Each step: predict with gravity, find the nearest body points, run Gauss-Seidel sweeps with one-sided
        contact planes, then strain limits, self-repulsion and exact contact with Coulomb friction."""
        s = self.s
        x = np.array(x0, dtype=np.float64)
        if s.perturb_m > 0:
            x += smooth_nudge(x, self.faces, self.edges, s.perturb_m, s.seed)
        x = self.field.push_out(x, s.offset_m)
        v = np.zeros_like(x)
        g = np.asarray(s.gravity) * s.dt * s.dt
        steps = steps or s.steps
        t0 = time.perf_counter()
        moved = np.inf
        mean_moves: list[float] = []
        max_moves: list[float] = []
        creep = s.creep_m if s.creep_m is not None else s.gravity_step_m
        done = 0
        wc = self.wc
        if wc is not None:
            wp = wc.wp
            p_wp = wp.zeros(self.n, dtype=wp.vec3, device="cpu")
            x_wp = wp.zeros(self.n, dtype=wp.vec3, device="cpu")
            sd_wp = wp.zeros(self.n, dtype=float, device="cpu")
            p_np, x_np, sd_np = p_wp.numpy(), x_wp.numpy(), sd_wp.numpy()  # zero-copy views of the CPU arrays
            # edge-edge contact every few steps: each pass checks the motion since the last one (`snap`)
            snap_wp = wp.array(x.astype(np.float32), dtype=wp.vec3, device="cpu") if s.edge_edge else None
            query_m = s.offset_m + 2.0 * self.mean_edge
        damping = self.fabric.damping if s.damping is None else s.damping
        for step in range(steps):
            if before_step is not None:
                before_step(step, x)
            y = x + v * s.dt * damping + (g if step >= s.gravity_after else 0.0)
            if wc is not None:
                p_np[:] = y
                x_np[:] = x
                if step == 0:
                    wc.query(p_wp, query_m)  # later steps reuse the planes the last contact pass found
                wc.solve(p_wp, s.offset_m, s.iterations)
                if self.tethers is not None:
                    self._tether(p_np)
                if s.body_through_cloth:
                    wc.push_cloth_off_body(
                        p_wp, self.faces, self.field.vnormals, s.offset_m, 0.02, 0.6 * self.mean_edge
                    )
                if s.self_collision and s.self_triangles:
                    wc.self_contact(p_wp, x_wp, self.faces, s.thickness_m)
                check_edges = s.edge_edge and step % s.edge_edge_every == s.edge_edge_every - 1
                if check_edges:
                    wc.edge_contact(p_wp, snap_wp, self.faces, 0.5 * s.thickness_m, s.offset_m)
                if s.self_collision and step % 2 == 0:
                    self._repel(p_np, self._self_pairs(p_np))
                wc.contact(
                    p_wp, x_wp, sd_wp, s.offset_m, query_m, self.fabric.friction, 0.5 * s.gravity_step_m
                )
                wp.synchronize()
                p = p_np.astype(np.float64)
                touching = sd_np < s.offset_m + 1e-3
                if check_edges:
                    snap_wp.numpy()[:] = p_np
            else:
                p, touching = self._numpy_step(x, y)
            if self.pinned is not None:  # the contact and self-contact passes do not move them either
                p[self.pinned] = x[self.pinned]
            # quasi-static: each step starts at rest unless `inertia` is on (then contact is inelastic and the
            # speed capped); carried velocity lets cloth creep down slopes, so the default settle has none
            v = (p - x) / s.dt if (s.inertia and step >= 10) else np.zeros_like(p)
            v[touching] = 0.0
            speed = np.sqrt((v * v).sum(1))
            cap = 0.3 * self.mean_edge / s.dt
            v *= np.minimum(1.0, cap / np.maximum(speed, 1e-12))[:, None]
            step_move = np.sqrt(((p - x) ** 2).sum(1))
            moved = float(step_move.max())
            # a stray vertex jostled by self-repulsion should not keep the whole cloth stepping: 99th percentile
            moved_p99 = float(np.percentile(step_move, 99))
            mean_moves.append(float(step_move.mean()))
            max_moves.append(moved)
            x = p
            done = step + 1
            progress(done / steps, f"drape step {done}/{steps}")
            # settled: nothing moves much, or the mean motion is a slow creep that no longer changes the look
            if step >= s.min_steps - 1 and (
                moved < s.tol_m or (mean_moves[-1] < creep and moved_p99 < 40 * s.tol_m)
            ):
                break
        x = self._final_contact(x)
        info = {
            "steps": done,
            "last_step_max_move_m": moved,
            "mean_moves_m": mean_moves,
            "max_moves_m": max_moves,
            "solve_s": time.perf_counter() - t0,
        }
        return x, info
