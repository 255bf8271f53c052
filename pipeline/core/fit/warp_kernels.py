"""Compiled CPU kernels for the drape solver, written with NVIDIA Warp (installed with anny): Gauss-Seidel
distance-constraint and hinge sweeps over the cloth's two halves on two threads, and exact body and self contact
through BVH queries, split in chunks across threads. The numpy solver in `pipeline.core.fit.solver` uses them when
Warp imports, and falls back to numpy otherwise."""

from __future__ import annotations

import functools
import os
import types
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.core.topology import unique_edges

# Warp runs a CPU launch on one thread and releases the GIL while it runs, so the solver splits its work in
# PARTS and runs them at once on as many threads as there are cores (Blender's cloth uses every core too): the
# kernels whose items are independent (one body query per cloth point) in chunks (`launch_split`), the
# Gauss-Seidel sweeps on the two halves of the cloth (`WarpCloth.solve`). The split does not depend on the
# machine, so a fit comes out the same on one core as on many, only slower.
PARTS = 2


def _cores() -> int:
    """The cores this process may use: its CPU affinity, capped by OMP_NUM_THREADS where a scheduler set it
    (Ray sets it to a task's CPUs, so a farm's one-CPU workers keep to one thread each)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return max(1, min(n, int(omp))) if omp.isdigit() and int(omp) > 0 else n


THREADS = min(PARTS, _cores())
MIN_CHUNK = 256  # items below which a launch is not split
# Gauss-Seidel sweeps of the halves between two sweeps of what joins them. The halves drift apart a little in
# between: on the sample tee, the edges within 2 cm of the centre line have strain p99 1.057 swept whole, 1.080 /
# 1.080 / 1.087 / 1.114 / 1.177 at 1 / 3 / 5 / 10 / 30 (the whole garment's p99 1.246, then 1.247 / 1.240 / 1.235
# / 1.235 / 1.231), and each block costs a few launches (the tee's drape 2.50 s swept whole, 2.18 / 1.88 / 1.82 /
# 1.76 / 1.77 s). At 5, one body vertex of bench_real_garments' walking XXL man stood 15 mm through the DiffCloth
# tee's sleeve in the Blender judge (at 1 3.9 mm, at 3 and 10 and swept whole none): the armpit of a walk is that
# sensitive to the order of the sweeps.
BLOCK_ITERATIONS = 3


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=PARTS - 1, thread_name_prefix="warp-cpu")


def run_at_once(launches: list) -> None:
    """Call each of `launches` (functions that launch Warp CPU kernels touching disjoint data), the first on
    this thread and the others on the pool's, at once where there are the cores; return when all are done."""
    if THREADS < 2 or len(launches) < 2:
        for launch in launches:
            launch()
        return
    futures = [_pool().submit(launch) for launch in launches[1:]]
    launches[0]()
    for f in futures:
        f.result()


def split_ranges(n: int) -> list[tuple[int, int]]:
    """[start, end) chunks of n items, PARTS of them (one when n is small)."""
    parts = max(1, min(PARTS, n // MIN_CHUNK))
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def launch_split(kernel, n: int, inputs_of) -> int:
    """Launch a per-item `kernel` over n items (its last input, `first`, offsets `wp.tid()`) in chunks at once
    (`run_at_once`); `inputs_of(c)` gives chunk c's other inputs (a kernel that accumulates into shared arrays
    gets its own per chunk). Returns the number of chunks. Items must not depend on one another."""
    wp = warp().wp
    chunks = split_ranges(n)
    run_at_once(
        [
            functools.partial(wp.launch, kernel, dim=b - a, inputs=[*inputs_of(c), a], device="cpu")
            for c, (a, b) in enumerate(chunks)
        ]
    )
    return len(chunks)


@functools.lru_cache(maxsize=1)
def warp():  # noqa: C901 - the kernels are closures compiled here, not branches
    """The initialised `warp` module and the kernels (a namespace), or None when Warp is unavailable."""
    from pipeline.core.quiet import init_warp

    wp = init_warp()
    if wp is None:
        return None

    @wp.kernel
    def contact(
        mesh: wp.uint64,
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        offset: float,
        max_dist: float,
        friction: float,
        min_slip: float,
        sd_out: wp.array(dtype=float),
        cp_out: wp.array(dtype=wp.vec3),
        n_out: wp.array(dtype=wp.vec3),
        valid: wp.array(dtype=int),
        push: wp.array(dtype=float),
        first: int,
    ):
        t = first + wp.tid()
        q = p[t]
        hit = wp.mesh_query_point_sign_normal(mesh, q, max_dist)
        valid[t] = 0
        if not hit.result:
            sd_out[t] = max_dist
            return
        cp = wp.mesh_eval_position(mesh, hit.face, hit.u, hit.v)
        diff = q - cp
        dist = wp.length(diff)
        sd = hit.sign * dist
        sd_out[t] = sd
        n = wp.mesh_eval_face_normal(mesh, hit.face)
        if dist > 1.0e-7:
            n = diff * (hit.sign / dist)
        cp_out[t] = cp  # this contact's plane, reused by the next step's iterations
        n_out[t] = n
        valid[t] = 1
        # friction needs the whole normal correction of the step: the final lift plus what the contact planes
        # pushed during the iterations (that is where a taut waistband's grip shows up)
        if sd >= offset and push[t] <= 0.0:
            return
        newp = q
        if sd < offset:
            newp = cp + n * offset
        if friction > 0.0:
            lift = wp.max(wp.max(offset - sd, 0.0) + push[t], min_slip)
            move = newp - x[t]
            tang = move - n * wp.dot(move, n)
            tl = wp.length(tang)
            mu = friction * lift
            if tl <= mu:
                newp = newp - tang
            else:
                newp = newp - tang * (mu / tl)
        p[t] = newp

    @wp.kernel
    def query_planes(
        mesh: wp.uint64,
        p: wp.array(dtype=wp.vec3),
        max_dist: float,
        cp_out: wp.array(dtype=wp.vec3),
        n_out: wp.array(dtype=wp.vec3),
        valid: wp.array(dtype=int),
        first: int,
    ):
        t = first + wp.tid()
        q = p[t]
        hit = wp.mesh_query_point_sign_normal(mesh, q, max_dist)
        valid[t] = 0
        if hit.result:
            cp = wp.mesh_eval_position(mesh, hit.face, hit.u, hit.v)
            diff = q - cp
            dist = wp.length(diff)
            n = wp.mesh_eval_face_normal(mesh, hit.face)
            if dist > 1.0e-7:
                n = diff * (hit.sign / dist)
            cp_out[t] = cp
            n_out[t] = n
            valid[t] = 1

    @wp.func
    def project_hinge(
        p: wp.array(dtype=wp.vec3),
        h: wp.vec4i,
        rest: wp.array(dtype=float),
        alpha: wp.array(dtype=float),
        lam: wp.array(dtype=float),
        inv_mass: wp.array(dtype=float),
        k: int,
    ):
        # XPBD dihedral bending of one hinge (the maths of `bending.hinge_angles` / `hinge_gradients`)
        x0 = p[h[0]]
        x1 = p[h[1]]
        x2 = p[h[2]]
        x3 = p[h[3]]
        e = x1 - x0
        el = wp.length(e)
        n1 = wp.cross(e, x2 - x0)
        n2 = wp.cross(x3 - x0, e)
        l1 = wp.dot(n1, n1)
        l2 = wp.dot(n2, n2)
        if el < 1.0e-9 or l1 < 1.0e-20 or l2 < 1.0e-20:
            return
        theta = wp.atan2(wp.dot(wp.cross(n1, n2), e) / el, wp.dot(n1, n2))
        c = theta - rest[k]
        if c > 3.14159265:
            c = c - 6.28318531
        if c < -3.14159265:
            c = c + 6.28318531
        c = wp.clamp(c, -0.5, 0.5)  # a large error is closed over several sweeps, not in one linear jump
        u1 = n1 / l1
        u2 = n2 / l2
        g2 = u1 * (-el)
        g3 = u2 * (-el)
        g0 = (u1 * wp.dot(x2 - x1, e) + u2 * wp.dot(x3 - x1, e)) * (-1.0 / el)
        g1 = (u1 * wp.dot(x2 - x0, e) + u2 * wp.dot(x3 - x0, e)) * (1.0 / el)
        w0 = inv_mass[h[0]]
        w1 = inv_mass[h[1]]
        w2 = inv_mass[h[2]]
        w3 = inv_mass[h[3]]
        denom = w0 * wp.dot(g0, g0) + w1 * wp.dot(g1, g1) + w2 * wp.dot(g2, g2) + w3 * wp.dot(g3, g3)
        a = alpha[k]
        dl = (-c - a * lam[k]) / (denom + a)
        lam[k] = lam[k] + dl
        p[h[0]] = x0 + g0 * (w0 * dl)
        p[h[1]] = x1 + g1 * (w1 * dl)
        p[h[2]] = x2 + g2 * (w2 * dl)
        p[h[3]] = x3 + g3 * (w3 * dl)

    @wp.kernel
    def take_part(p: wp.array(dtype=wp.vec3), part: wp.array(dtype=wp.vec3), verts: wp.array(dtype=int)):
        # a half's points back from the copy its thread swept (`WarpCloth.solve`)
        v = verts[wp.tid()]
        p[v] = part[v]

    @wp.kernel
    def sum_push(
        push: wp.array(dtype=float),
        a: wp.array(dtype=float),
        b: wp.array(dtype=float),
        c: wp.array(dtype=float),
    ):
        t = wp.tid()
        push[t] = a[t] + b[t] + c[t]

    @wp.kernel
    def solve_part(
        p: wp.array(dtype=wp.vec3),
        ci: wp.array(dtype=int),
        cj: wp.array(dtype=int),
        rest: wp.array(dtype=float),
        k_stretch: wp.array(dtype=float),
        k_compress: wp.array(dtype=float),
        cons: wp.array(dtype=int),
        n_cons: int,
        cp: wp.array(dtype=wp.vec3),
        nrm: wp.array(dtype=wp.vec3),
        valid: wp.array(dtype=int),
        verts: wp.array(dtype=int),
        n_verts: int,
        offset: float,
        iterations: int,
        push: wp.array(dtype=float),
        hinge: wp.array(dtype=wp.vec4i),
        hinge_rest: wp.array(dtype=float),
        hinge_alpha: wp.array(dtype=float),
        hinge_lambda: wp.array(dtype=float),
        inv_mass: wp.array(dtype=float),
        hinges: wp.array(dtype=int),
        n_h: int,
        free: wp.array(dtype=float),
    ):
        # One thread, true Gauss-Seidel over one part of the cloth (`WarpCloth.solve`): its distance constraints
        # in turn, then its dihedral hinges (XPBD, `bending.project_hinges`), then its points' contact planes,
        # `iterations` times. The two halves' parts touch no common point, so they run at once on two threads;
        # the constraints and hinges joining them are a third part, run after. `push` sums each point's normal
        # corrections from the contact planes (the normal impulse the friction of the contact pass uses).
        for _it in range(iterations):
            for q in range(n_cons):
                t = cons[q]
                i = ci[t]
                j = cj[t]
                d = p[j] - p[i]
                length = wp.length(d)
                wsum = free[i] + free[j]  # pinned points (free 0) do not move; free ones share the correction
                if length > 1.0e-12 and wsum > 0.0:
                    c = length - rest[t]
                    if c > 0.0:
                        c = c * k_stretch[t]
                    else:
                        c = c * k_compress[t]
                    corr = d * (c / (length * wsum))
                    p[i] = p[i] + corr * free[i]
                    p[j] = p[j] - corr * free[j]
            for q in range(n_h):
                hh = hinges[q]
                project_hinge(p, hinge[hh], hinge_rest, hinge_alpha, hinge_lambda, inv_mass, hh)
            for q in range(n_verts):
                v = verts[q]
                if valid[v] == 1 and free[v] > 0.0:
                    depth = wp.dot(p[v] - cp[v], nrm[v]) - offset
                    if depth < 0.0:
                        p[v] = p[v] - nrm[v] * depth
                        push[v] = push[v] - depth

    @wp.kernel
    def limit_strain(
        p: wp.array(dtype=wp.vec3),
        ci: wp.array(dtype=int),
        cj: wp.array(dtype=int),
        rest: wp.array(dtype=float),
        limit: wp.array(dtype=float),
        n_constraints: int,
        limit_passes: int,
        free: wp.array(dtype=float),
    ):
        # strain-limiting passes over every edge after a step's sweeps (one thread, Gauss-Seidel)
        for _ps in range(limit_passes):
            for t in range(n_constraints):
                if limit[t] > 0.0:
                    i = ci[t]
                    j = cj[t]
                    d = p[j] - p[i]
                    length = wp.length(d)
                    c = length - limit[t] * rest[t]
                    wsum = free[i] + free[j]
                    if c > 0.0 and length > 1.0e-12 and wsum > 0.0:
                        corr = d * (c / (length * wsum))
                        p[i] = p[i] + corr * free[i]
                        p[j] = p[j] - corr * free[j]

    @wp.kernel
    def closest_points(
        mesh: wp.uint64,
        pts: wp.array(dtype=wp.vec3),
        max_dist: float,
        cp_out: wp.array(dtype=wp.vec3),
        face_out: wp.array(dtype=int),
        uv_out: wp.array(dtype=wp.vec2),
        sign_out: wp.array(dtype=float),
        first: int,
    ):
        t = first + wp.tid()
        hit = wp.mesh_query_point_sign_normal(mesh, pts[t], max_dist)
        face_out[t] = -1
        if hit.result:
            cp_out[t] = wp.mesh_eval_position(mesh, hit.face, hit.u, hit.v)
            face_out[t] = hit.face
            uv_out[t] = wp.vec2(hit.u, hit.v)
            sign_out[t] = hit.sign

    @wp.func
    def spread_over_triangle(
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        i0: int,
        i1: int,
        i2: int,
        move: wp.vec3,
        w0: float,
        w1: float,
        w2: float,
    ):
        # a correction `move` shared among a triangle's corners by barycentric weights, accumulated
        wp.atomic_add(delta, i0, move * w0)
        wp.atomic_add(delta, i1, move * w1)
        wp.atomic_add(delta, i2, move * w2)
        wp.atomic_add(count, i0, 1.0)
        wp.atomic_add(count, i1, 1.0)
        wp.atomic_add(count, i2, 1.0)

    @wp.kernel
    def body_through_cloth(
        cloth: wp.uint64,
        faces: wp.array(dtype=int),
        body_pts: wp.array(dtype=wp.vec3),
        body_nrm: wp.array(dtype=wp.vec3),
        offset: float,
        max_dist: float,
        max_slide: float,
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        first: int,
    ):
        # Vertex-triangle contact the other way round: a body vertex standing out through a cloth triangle (thin
        # parts, e.g. an arm through a sleeve's underside, where every cloth vertex is outside the body but a
        # triangle between them is not). The triangle is pushed out along the body normal, by barycentric shares.
        t = first + wp.tid()
        b = body_pts[t]
        hit = wp.mesh_query_point_no_sign(cloth, b, max_dist)
        if not hit.result:
            return
        c = wp.mesh_eval_position(cloth, hit.face, hit.u, hit.v)
        n = body_nrm[t]
        d = c - b
        h = wp.dot(d, n)
        if wp.length(d - n * h) > max_slide:  # beside the cloth (past a cuff or hem): not covered here
            return
        depth = h - offset
        if depth >= 0.0:
            return
        w0 = hit.u
        w1 = hit.v
        w2 = 1.0 - hit.u - hit.v
        s = -depth / (w0 * w0 + w1 * w1 + w2 * w2)
        f = hit.face * 3
        spread_over_triangle(delta, count, faces[f], faces[f + 1], faces[f + 2], n * s, w0, w1, w2)

    @wp.func
    def triangle_barycentric(a: wp.vec3, b: wp.vec3, c: wp.vec3, p: wp.vec3):
        # barycentrics of the point of triangle abc closest to p (Ericson, Real-Time Collision Detection 5.1.5)
        ab = b - a
        ac = c - a
        ap = p - a
        d1 = wp.dot(ab, ap)
        d2 = wp.dot(ac, ap)
        if d1 <= 0.0 and d2 <= 0.0:
            return wp.vec3(1.0, 0.0, 0.0)
        bp = p - b
        d3 = wp.dot(ab, bp)
        d4 = wp.dot(ac, bp)
        if d3 >= 0.0 and d4 <= d3:
            return wp.vec3(0.0, 1.0, 0.0)
        vc = d1 * d4 - d3 * d2
        if vc <= 0.0 and d1 >= 0.0 and d3 <= 0.0:
            v = d1 / (d1 - d3)
            return wp.vec3(1.0 - v, v, 0.0)
        cp = p - c
        d5 = wp.dot(ab, cp)
        d6 = wp.dot(ac, cp)
        if d6 >= 0.0 and d5 <= d6:
            return wp.vec3(0.0, 0.0, 1.0)
        vb = d5 * d2 - d1 * d6
        if vb <= 0.0 and d2 >= 0.0 and d6 <= 0.0:
            w = d2 / (d2 - d6)
            return wp.vec3(1.0 - w, 0.0, w)
        va = d3 * d6 - d5 * d4
        if va <= 0.0 and (d4 - d3) >= 0.0 and (d5 - d6) >= 0.0:
            w = (d4 - d3) / ((d4 - d3) + (d5 - d6))
            return wp.vec3(0.0, 1.0 - w, w)
        denom = 1.0 / (va + vb + vc)
        v = vb * denom
        w = vc * denom
        return wp.vec3(1.0 - v - w, v, w)

    @wp.kernel
    def cloth_self_contact(
        cloth: wp.uint64,
        faces: wp.array(dtype=int),
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        thickness: float,
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        first: int,
    ):
        # Vertex-triangle self-contact: each cloth vertex against the cloth triangles near it (not its own), kept
        # `thickness` apart on the side of the triangle where the vertex was at the step's start (`x`), so a
        # vertex that crossed a triangle during the step is brought back, not pushed on through. The correction
        # is shared between the vertex and the triangle's corners (by barycentric weights), accumulated.
        t = first + wp.tid()
        q = p[t]
        r = wp.vec3(thickness, thickness, thickness)
        query = wp.mesh_query_aabb(cloth, q - r, q + r)
        f = int(0)  # noqa: UP018 - a mutable Warp local (mesh_query_aabb_next writes it)
        while wp.mesh_query_aabb_next(query, f):
            i0 = faces[f * 3]
            i1 = faces[f * 3 + 1]
            i2 = faces[f * 3 + 2]
            if i0 != t and i1 != t and i2 != t:
                a = p[i0]
                b = p[i1]
                c = p[i2]
                bc = triangle_barycentric(a, b, c, q)
                cp = a * bc[0] + b * bc[1] + c * bc[2]
                n = wp.cross(b - a, c - a)
                ln = wp.length(n)
                n0 = wp.cross(x[i1] - x[i0], x[i2] - x[i0])
                side = wp.dot(x[t] - x[i0], n0)
                inside = bc[0] > 0.0 and bc[1] > 0.0 and bc[2] > 0.0
                if ln > 1.0e-12 and side != 0.0:
                    n = n / ln
                    if side < 0.0:
                        n = -n
                    h = wp.dot(q - cp, n)  # height on the vertex's own side
                    dist = wp.length(q - cp)
                    if h < thickness and (dist < thickness or (inside and h < 0.0)):
                        pen = thickness - h
                        s = pen / (1.0 + bc[0] * bc[0] + bc[1] * bc[1] + bc[2] * bc[2])
                        wp.atomic_add(delta, t, n * s)
                        wp.atomic_add(count, t, 1.0)
                        spread_over_triangle(delta, count, i0, i1, i2, n * (-s), bc[0], bc[1], bc[2])

    @wp.func
    def segment_params(p1: wp.vec3, q1: wp.vec3, p2: wp.vec3, q2: wp.vec3):
        # parameters (s, t) of the closest points p1 + s (q1 - p1) and p2 + t (q2 - p2) of two segments (Ericson,
        # Real-Time Collision Detection 5.1.9)
        d1 = q1 - p1
        d2 = q2 - p2
        r = p1 - p2
        a = wp.dot(d1, d1)
        e = wp.dot(d2, d2)
        f = wp.dot(d2, r)
        c = wp.dot(d1, r)
        b = wp.dot(d1, d2)
        den = a * e - b * b
        s = float(0.0)  # noqa: UP018 - a mutable Warp local
        if den > 1.0e-20:
            s = wp.clamp((b * f - c * e) / den, 0.0, 1.0)
        t = float((b * s + f) / wp.max(e, 1.0e-20))  # noqa: UP018 - mutable Warp locals are declared
        if t < 0.0:
            t = 0.0
            s = wp.clamp(-c / wp.max(a, 1.0e-20), 0.0, 1.0)
        elif t > 1.0:
            t = 1.0
            s = wp.clamp((b - c) / wp.max(a, 1.0e-20), 0.0, 1.0)
        return wp.vec2(s, t)

    @wp.func
    def edge_pair_push(
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        i: int,
        j: int,
        a: wp.vec3,
        b: wp.vec3,
        a0: wp.vec3,
        b0: wp.vec3,
        thickness: float,
    ):
        # the push (along the cloth edge's side at the step's start) that keeps cloth edge ij `thickness` off the
        # segment ab (a0 b0 at the step's start), and where along each segment it acts: (push, s, t, depth)
        st = segment_params(p[i], p[j], a, b)
        st0 = segment_params(x[i], x[j], a0, b0)
        c0 = x[i] + (x[j] - x[i]) * st0[0] - (a0 + (b0 - a0) * st0[1])
        c = p[i] + (p[j] - p[i]) * st[0] - (a + (b - a) * st[1])
        n = wp.vec3(c0)
        if wp.length(c0) < 1.0e-9:
            n = wp.vec3(c)
        ln = wp.length(n)
        depth = float(0.0)  # noqa: UP018 - a mutable Warp local
        if ln > 1.0e-12:
            n = n / ln
            h = wp.dot(c, n)  # separation on the side the edges were at the step's start
            # near (within thickness) or crossed during the step (h < 0): only while the closest points are
            # near each other, so two far edges whose lines merely pass do not count
            if h < thickness and wp.length(c) < 2.0 * thickness + wp.max(-h, 0.0):
                depth = thickness - h
        return wp.vec4(n[0], n[1], n[2], depth), st

    @wp.kernel
    def edge_boxes(
        edges: wp.array(dtype=wp.vec2i),
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        pad: float,
        lowers: wp.array(dtype=wp.vec3),
        uppers: wp.array(dtype=wp.vec3),
    ):
        # each edge's box swept from `x` to `p`, grown by `pad`: the broad phase of the edge-edge contact
        e = wp.tid()
        i = edges[e][0]
        j = edges[e][1]
        r = wp.vec3(pad, pad, pad)
        lowers[e] = wp.min(wp.min(p[i], p[j]), wp.min(x[i], x[j])) - r
        uppers[e] = wp.max(wp.max(p[i], p[j]), wp.max(x[i], x[j])) + r

    @wp.kernel
    def cloth_edge_contact(
        bvh: wp.uint64,
        edges: wp.array(dtype=wp.vec2i),
        lowers: wp.array(dtype=wp.vec3),
        uppers: wp.array(dtype=wp.vec3),
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        thickness: float,
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        first: int,
    ):
        # Edge-edge self-contact: each cloth edge against the cloth edges whose swept boxes (`edge_boxes`, in a
        # BVH) overlap its own, not those sharing a vertex, each pair once (from its lower edge id), kept
        # `thickness` apart on the side they were at the step's start (`x`), so two edges that crossed (folds
        # passing through each other between vertices, which vertex-triangle contact misses) are brought back.
        # The correction is shared between the four vertices by the closest points' parameters, accumulated.
        e = first + wp.tid()
        i = edges[e][0]
        j = edges[e][1]
        query = wp.bvh_query_aabb(bvh, lowers[e], uppers[e])
        o = int(0)  # noqa: UP018 - a mutable Warp local (bvh_query_next writes it)
        while wp.bvh_query_next(query, o):
            if o > e:
                k0 = edges[o][0]
                k1 = edges[o][1]
                if k0 != i and k0 != j and k1 != i and k1 != j:
                    res, st = edge_pair_push(p, x, i, j, p[k0], p[k1], x[k0], x[k1], thickness)
                    depth = res[3]
                    if depth > 0.0:
                        n = wp.vec3(res[0], res[1], res[2])
                        s = st[0]
                        t = st[1]
                        w = (1.0 - s) * (1.0 - s) + s * s + (1.0 - t) * (1.0 - t) + t * t
                        m = n * (depth / w)
                        wp.atomic_add(delta, i, m * (1.0 - s))
                        wp.atomic_add(delta, j, m * s)
                        wp.atomic_add(delta, k0, -m * (1.0 - t))
                        wp.atomic_add(delta, k1, -m * t)
                        wp.atomic_add(count, i, 1.0)
                        wp.atomic_add(count, j, 1.0)
                        wp.atomic_add(count, k0, 1.0)
                        wp.atomic_add(count, k1, 1.0)

    @wp.kernel
    def body_edge_contact(
        body_bvh: wp.uint64,
        body_pts: wp.array(dtype=wp.vec3),
        body_edges: wp.array(dtype=wp.vec2i),
        edges: wp.array(dtype=wp.vec2i),
        lowers: wp.array(dtype=wp.vec3),
        uppers: wp.array(dtype=wp.vec3),
        p: wp.array(dtype=wp.vec3),
        x: wp.array(dtype=wp.vec3),
        thickness: float,
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        first: int,
    ):
        # Edge-edge contact with the (still) body: each cloth edge against the body edges (a BVH of their boxes)
        # near its swept box, kept `thickness` off on the side it was at the step's start, so a cloth edge does
        # not cut through a body edge (a shoulder, a finger) while both its vertices stay outside the body. Only
        # the cloth moves.
        e = first + wp.tid()
        i = edges[e][0]
        j = edges[e][1]
        query = wp.bvh_query_aabb(body_bvh, lowers[e], uppers[e])
        o = int(0)  # noqa: UP018 - a mutable Warp local (bvh_query_next writes it)
        while wp.bvh_query_next(query, o):
            a = body_pts[body_edges[o][0]]
            b = body_pts[body_edges[o][1]]
            res, st = edge_pair_push(p, x, i, j, a, b, a, b, thickness)
            depth = res[3]
            if depth > 0.0:
                s = st[0]
                m = wp.vec3(res[0], res[1], res[2]) * (depth / ((1.0 - s) * (1.0 - s) + s * s))
                wp.atomic_add(delta, i, m * (1.0 - s))
                wp.atomic_add(delta, j, m * s)
                wp.atomic_add(count, i, 1.0)
                wp.atomic_add(count, j, 1.0)

    @wp.kernel
    def ray_hits(
        mesh: wp.uint64,
        origins: wp.array(dtype=wp.vec3),
        dirs: wp.array(dtype=wp.vec3),
        max_t: float,
        t_out: wp.array(dtype=float),
        face_out: wp.array(dtype=int),
        uv_out: wp.array(dtype=wp.vec2),
    ):
        i = wp.tid()
        q = wp.mesh_query_ray(mesh, origins[i], dirs[i], max_t)
        face_out[i] = -1
        if q.result:
            t_out[i] = q.t
            face_out[i] = q.face
            uv_out[i] = wp.vec2(q.u, q.v)

    @wp.kernel
    def apply_delta(p: wp.array(dtype=wp.vec3), delta: wp.array(dtype=wp.vec3), count: wp.array(dtype=float)):
        t = wp.tid()
        if count[t] > 0.0:
            p[t] = p[t] + delta[t] / count[t]
        delta[t] = wp.vec3(0.0, 0.0, 0.0)
        count[t] = 0.0

    @wp.kernel
    def add_delta(
        delta: wp.array(dtype=wp.vec3),
        count: wp.array(dtype=float),
        delta2: wp.array(dtype=wp.vec3),
        count2: wp.array(dtype=float),
    ):
        # another worker's accumulation (`launch_split`) added into the first's, and cleared
        t = wp.tid()
        delta[t] = delta[t] + delta2[t]
        count[t] = count[t] + count2[t]
        delta2[t] = wp.vec3(0.0, 0.0, 0.0)
        count2[t] = 0.0

    wp.load_module(__name__, device="cpu")  # compiled or loaded here, not on a first launch from two threads
    return types.SimpleNamespace(
        wp=wp,
        add_delta=add_delta,
        body_through_cloth=body_through_cloth,
        cloth_self_contact=cloth_self_contact,
        cloth_edge_contact=cloth_edge_contact,
        body_edge_contact=body_edge_contact,
        edge_boxes=edge_boxes,
        apply_delta=apply_delta,
        ray_hits=ray_hits,
        contact=contact,
        query_planes=query_planes,
        take_part=take_part,
        sum_push=sum_push,
        solve_part=solve_part,
        limit_strain=limit_strain,
        closest_points=closest_points,
    )


def ray_cast(
    vertices: np.ndarray, faces: np.ndarray, origins: np.ndarray, dirs: np.ndarray, max_t: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """First hit of each ray (origin, unit direction) on the triangle mesh within `max_t`: (distance, face id
    (-1 = none), barycentrics (N, 3)); None when Warp is unavailable."""
    k = warp()
    if k is None:
        return None
    wp = k.wp
    mesh = WarpBodyMesh(vertices, faces).mesh
    n = len(origins)
    o = wp.array(np.asarray(origins, np.float32), dtype=wp.vec3, device="cpu")
    d = wp.array(np.asarray(dirs, np.float32), dtype=wp.vec3, device="cpu")
    t = wp.zeros(n, dtype=float, device="cpu")
    face = wp.zeros(n, dtype=int, device="cpu")
    uv = wp.zeros(n, dtype=wp.vec2, device="cpu")
    wp.launch(k.ray_hits, dim=n, inputs=[mesh.id, o, d, float(max_t), t, face, uv], device="cpu")
    wp.synchronize()
    u, v = uv.numpy()[:, 0].astype(np.float64), uv.numpy()[:, 1].astype(np.float64)
    return t.numpy().astype(np.float64), face.numpy().astype(np.int64), np.stack([u, v, 1.0 - u - v], 1)


class WarpBodyMesh:
    """A BVH over the body for fast exact closest-point queries."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray):
        self.wp = warp().wp
        self.kernel = warp().closest_points
        wp = self.wp
        self.points = wp.array(np.asarray(vertices, np.float32), dtype=wp.vec3, device="cpu")
        self.indices = wp.array(np.asarray(faces, np.int32).ravel(), dtype=int, device="cpu")
        self.mesh = wp.Mesh(points=self.points, indices=self.indices)

    def query(self, points: np.ndarray, max_dist: float = 10.0):
        """(closest points, face ids (-1 = none), barycentrics (N, 3), sign) for each point."""
        wp = self.wp
        n = len(points)
        pts = wp.array(np.asarray(points, np.float32), dtype=wp.vec3, device="cpu")
        cp = wp.zeros(n, dtype=wp.vec3, device="cpu")
        face = wp.zeros(n, dtype=int, device="cpu")
        uv = wp.zeros(n, dtype=wp.vec2, device="cpu")
        sign = wp.zeros(n, dtype=float, device="cpu")
        launch_split(self.kernel, n, lambda c: [self.mesh.id, pts, max_dist, cp, face, uv, sign])
        wp.synchronize()
        u, v = uv.numpy()[:, 0].astype(np.float64), uv.numpy()[:, 1].astype(np.float64)
        bary = np.stack([u, v, 1.0 - u - v], axis=1)
        return (
            cp.numpy().astype(np.float64),
            face.numpy().astype(np.int64),
            bary,
            sign.numpy().astype(np.float64),
        )


_BODY_EDGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def body_edge_bvh(mesh) -> tuple:
    """A still body mesh's edges and a BVH of their boxes, built once per mesh (the solvers of one fit share
    the body's mesh: the sewing, the settle and the fit's settle)."""
    if mesh not in _BODY_EDGES:
        wp = warp().wp
        bp = mesh.points.numpy()
        be = unique_edges(mesh.indices.numpy().reshape(-1, 3)).astype(np.int32)
        lo = wp.array(np.minimum(bp[be[:, 0]], bp[be[:, 1]]).astype(np.float32), dtype=wp.vec3, device="cpu")
        hi = wp.array(np.maximum(bp[be[:, 0]], bp[be[:, 1]]).astype(np.float32), dtype=wp.vec3, device="cpu")
        # the boxes are kept with the BVH, which refers to them
        _BODY_EDGES[mesh] = (wp.array(be, dtype=wp.vec2i, device="cpu"), wp.Bvh(lo, hi), lo, hi)
    return _BODY_EDGES[mesh][:2]


class WarpCloth:
    """Warp-side state of one garment: constraint arrays in Gauss-Seidel order, the body BVH, contact planes."""

    def __init__(
        self,
        pairs: np.ndarray,
        rest: np.ndarray,
        k_stretch: np.ndarray,
        k_compress: np.ndarray,
        groups: list[np.ndarray],
        body_vertices: np.ndarray,
        body_faces: np.ndarray,
        limit: np.ndarray,
        mesh=None,
        hinges: np.ndarray | None = None,
        hinge_rest: np.ndarray | None = None,
        hinge_alpha: np.ndarray | None = None,
        inv_mass: np.ndarray | None = None,
        free: np.ndarray | None = None,
    ):
        k = warp()
        wp, self.k_contact, self.k_query = k.wp, k.contact, k.query_planes
        self.wp = wp
        order = np.concatenate(groups)
        dev = "cpu"
        self.ci = wp.array(pairs[order, 0].astype(np.int32), dtype=int, device=dev)
        self.cj = wp.array(pairs[order, 1].astype(np.int32), dtype=int, device=dev)
        self.rest = wp.array(rest[order].astype(np.float32), dtype=float, device=dev)
        self.ks = wp.array(k_stretch[order].astype(np.float32), dtype=float, device=dev)
        self.kc = wp.array(k_compress[order].astype(np.float32), dtype=float, device=dev)
        self.limit = wp.array(limit[order].astype(np.float32), dtype=float, device=dev)  # 0: not limited
        self.n_constraints = len(order)
        self._pairs = np.asarray(pairs[order], np.int64).reshape(-1, 2)
        # dihedral hinges (`bending.hinges`) with rest angles, XPBD compliance / dt^2 and inverse vertex masses
        self.n_hinges = 0 if hinges is None else len(hinges)
        n_h = max(self.n_hinges, 1)
        h = np.zeros((n_h, 4), np.int32) if not self.n_hinges else np.asarray(hinges, np.int32)
        self.hinge = wp.array(h, dtype=wp.vec4i, device=dev)
        self._hinges = h.astype(np.int64)
        self.hinge_rest = wp.array(self._or_zeros(hinge_rest, n_h), dtype=float, device=dev)
        self.hinge_alpha = wp.array(self._or_zeros(hinge_alpha, n_h), dtype=float, device=dev)
        self.hinge_lambda = wp.zeros(n_h, dtype=float, device=dev)
        n_v = int(pairs.max()) + 1 if len(pairs) else 1
        self.inv_mass = wp.array(self._or_zeros(inv_mass, n_v, 1.0), dtype=float, device=dev)
        # 1 per free point, 0 per pinned one (held where it is by the distance constraints and contact planes)
        self.free = wp.array(self._or_zeros(free, n_v, 1.0), dtype=float, device=dev)
        # the body's BVH: shared with the BodyField's when given (building one costs about as much as a step)
        self.mesh = mesh or wp.Mesh(
            points=wp.array(np.asarray(body_vertices, np.float32), dtype=wp.vec3, device=dev),
            indices=wp.array(np.asarray(body_faces, np.int32).ravel(), dtype=int, device=dev),
        )

    def _accumulators(self, n: int) -> list:
        """One (delta, count) pair per chunk, for kernels that accumulate corrections (`launch_split`)."""
        wp = self.wp
        return [
            (wp.zeros(n, dtype=wp.vec3, device="cpu"), wp.zeros(n, dtype=float, device="cpu"))
            for _ in range(PARTS)
        ]

    def _apply(self, p_wp, acc: list, chunks: int) -> None:
        """Add the workers' accumulations into the first and apply it to the points (`apply_delta`)."""
        wp, k = self.wp, warp()
        n = p_wp.shape[0]
        for d, c in acc[1:chunks]:
            wp.launch(k.add_delta, dim=n, inputs=[acc[0][0], acc[0][1], d, c], device="cpu")
        wp.launch(k.apply_delta, dim=n, inputs=[p_wp, *acc[0]], device="cpu")

    @staticmethod
    def _or_zeros(a: np.ndarray | None, n: int, fill: float = 0.0) -> np.ndarray:
        return np.full(n, fill, np.float32) if a is None or not len(a) else np.asarray(a, np.float32)

    def push_cloth_off_body(
        self,
        p_wp,
        faces: np.ndarray,
        body_normals: np.ndarray,
        offset: float,
        max_dist: float,
        max_slide: float,
    ) -> None:
        """Move cloth triangles that body vertices stand out through back outside (see `body_through_cloth`);
        the cloth BVH is built on the first call over `p_wp` itself and refitted on later ones."""
        wp, k = self.wp, warp()
        if getattr(self, "_cloth", None) is None or self._cloth_points is not p_wp:
            self._cloth_points = p_wp
            self._faces = wp.array(np.asarray(faces, np.int32).ravel(), dtype=int, device="cpu")
            self._cloth = wp.Mesh(points=p_wp, indices=self._faces)
            self._bnrm = wp.array(np.asarray(body_normals, np.float32), dtype=wp.vec3, device="cpu")
            self._acc = self._accumulators(p_wp.shape[0])
        else:
            self._cloth.refit()
        inputs = [self._cloth.id, self._faces, self.mesh.points, self._bnrm, offset, max_dist, max_slide]
        chunks = launch_split(k.body_through_cloth, self._bnrm.shape[0], lambda c: [*inputs, *self._acc[c]])
        self._apply(p_wp, self._acc, chunks)

    def self_contact(self, p_wp, x_wp, faces: np.ndarray, thickness: float, passes: int = 2) -> None:
        """Vertex-triangle self-contact passes (`cloth_self_contact`) over the cloth's own BVH, built on the
        first call over `p_wp` and refitted before each pass."""
        wp, k = self.wp, warp()
        if getattr(self, "_self", None) is None or self._self_points is not p_wp:
            self._self_points = p_wp
            self._self_faces = wp.array(np.asarray(faces, np.int32).ravel(), dtype=int, device="cpu")
            self._self = wp.Mesh(points=p_wp, indices=self._self_faces)
            self._self_acc = self._accumulators(p_wp.shape[0])
        for _ in range(passes):
            self._self.refit()
            inputs = [self._self.id, self._self_faces, p_wp, x_wp, thickness]
            chunks = launch_split(
                k.cloth_self_contact, p_wp.shape[0], lambda c, inputs=inputs: [*inputs, *self._self_acc[c]]
            )
            self._apply(p_wp, self._self_acc, chunks)

    def edge_contact(
        self, p_wp, x_wp, faces: np.ndarray, thickness: float, body_offset: float, passes: int = 1
    ) -> None:
        """Edge-edge contact passes over the motion from `x_wp` to `p_wp`: cloth edges against the cloth's own
        edges (`cloth_edge_contact`, a BVH of the edges' swept boxes, refitted each pass) and against the body's
        edges (`body_edge_contact`, a BVH of the still body's edge boxes, built once), `body_offset` apart."""
        wp, k = self.wp, warp()
        n_v = p_wp.shape[0]
        if getattr(self, "_edges_wp", None) is None or self._edges_wp_n != n_v:
            edges = unique_edges(faces).astype(np.int32)
            self._edges_wp_n = n_v
            self._edges_wp = wp.array(edges, dtype=wp.vec2i, device="cpu")
            self._lo = wp.zeros(len(edges), dtype=wp.vec3, device="cpu")
            self._hi = wp.zeros(len(edges), dtype=wp.vec3, device="cpu")
            self._edge_bvh = None
            self._edge_acc = self._accumulators(n_v)
            self._body_edges, self._body_bvh = body_edge_bvh(self.mesh)
        n_e, acc = self._edges_wp.shape[0], self._edge_acc
        for _ in range(passes):
            pad = max(thickness, body_offset)
            wp.launch(k.edge_boxes, dim=n_e, inputs=[self._edges_wp, p_wp, x_wp, pad, self._lo, self._hi])
            if self._edge_bvh is None:
                self._edge_bvh = wp.Bvh(self._lo, self._hi)
            else:
                self._edge_bvh.refit()
            cloth = [self._edge_bvh.id, self._edges_wp, self._lo, self._hi, p_wp, x_wp, thickness]
            chunks = launch_split(k.cloth_edge_contact, n_e, lambda c, inputs=cloth: [*inputs, *acc[c]])
            self._apply(p_wp, acc, chunks)
            body = [self._body_bvh.id, self.mesh.points, self._body_edges, self._edges_wp, self._lo, self._hi]
            body += [p_wp, x_wp, body_offset]
            chunks = launch_split(k.body_edge_contact, n_e, lambda c, inputs=body: [*inputs, *acc[c]])
            self._apply(p_wp, acc, chunks)

    def query(self, p_wp, max_dist: float) -> None:
        n = p_wp.shape[0]
        if getattr(self, "_cp", None) is None or self._cp.shape[0] != n:
            self._cp = self.wp.zeros(n, dtype=self.wp.vec3, device="cpu")
            self._n = self.wp.zeros(n, dtype=self.wp.vec3, device="cpu")
            self._valid = self.wp.zeros(n, dtype=int, device="cpu")
            self._push = self.wp.zeros(n, dtype=float, device="cpu")
        inputs = [self.mesh.id, p_wp, max_dist, self._cp, self._n, self._valid]
        launch_split(self.k_query, n, lambda c: inputs)

    def solve(self, p_wp, offset: float, iterations: int, limit_passes: int = 2) -> None:
        """All constraint iterations and contact planes of one step, Gauss-Seidel: the cloth's two halves
        (`_partition`) at once on two threads, then the constraints and hinges joining them, `BLOCK_ITERATIONS`
        sweeps at a time; then strain-limiting passes over every edge. Each half is swept in its own copy of
        the points, multipliers and contact push (two threads writing to one array slow each other down where
        their points share cache lines), taken back after."""
        wp, k = self.wp, warp()
        n = p_wp.shape[0]
        if getattr(self, "_parts_n", None) != n:
            self._parts = self._partition(p_wp.numpy())
            self._parts_n = n
            self._copies = [wp.zeros(n, dtype=wp.vec3, device="cpu") for _ in range(2)]
            self._push_parts = [wp.zeros(n, dtype=float, device="cpu") for _ in range(3)]
            self._lambda_parts = [wp.zeros_like(self.hinge_lambda) for _ in range(3)]
        for a in (*self._push_parts, *self._lambda_parts):
            a.zero_()
        done = 0
        while done < iterations:
            m = min(BLOCK_ITERATIONS, iterations - done)
            for c in self._copies:
                wp.copy(c, p_wp)
            run_at_once([functools.partial(self._sweep, self._copies[h], h, offset, m) for h in range(2)])
            for h in range(2):
                verts, n_verts = self._parts[h][2:4]
                wp.launch(k.take_part, dim=n_verts, inputs=[p_wp, self._copies[h], verts], device="cpu")
            self._sweep(p_wp, 2, offset, m)
            done += m
        wp.launch(k.sum_push, dim=n, inputs=[self._push, *self._push_parts], device="cpu")
        inputs = [p_wp, self.ci, self.cj, self.rest, self.limit, self.n_constraints, limit_passes, self.free]
        wp.launch(k.limit_strain, dim=1, inputs=inputs, device="cpu")

    def _sweep(self, p_wp, part: int, offset: float, iterations: int) -> None:
        cons, n_cons, verts, n_verts, hinges, n_h = self._parts[part]
        self.wp.launch(
            warp().solve_part,
            dim=1,
            inputs=[
                p_wp,
                self.ci,
                self.cj,
                self.rest,
                self.ks,
                self.kc,
                cons,
                n_cons,
                self._cp,
                self._n,
                self._valid,
                verts,
                n_verts,
                offset,
                iterations,
                self._push_parts[part],
                self.hinge,
                self.hinge_rest,
                self.hinge_alpha,
                self._lambda_parts[part],
                self.inv_mass,
                hinges,
                n_h,
                self.free,
            ],
            device="cpu",
        )

    def _partition(self, x: np.ndarray) -> list[tuple]:
        """The solve's three parts, each (constraints, count, points, count, hinges, count) as Warp arrays (in
        the Gauss-Seidel order): the points either side of the median x (a garment's left and right halves,
        whose constraints and hinges share no point, so they are swept at once), and the constraints and
        hinges that join the halves with their points (swept after both)."""
        side = x[:, 0] > np.median(x[:, 0])
        si, sj = side[self._pairs[:, 0]], side[self._pairs[:, 1]]
        cons = [np.nonzero(~si & ~sj)[0], np.nonzero(si & sj)[0], np.nonzero(si != sj)[0]]
        hs = side[self._hinges[: self.n_hinges]]
        hinges = [np.nonzero(~hs.any(1))[0], np.nonzero(hs.all(1))[0], np.nonzero(hs.any(1) & ~hs.all(1))[0]]
        joined = np.union1d(self._pairs[cons[2]].ravel(), self._hinges[hinges[2]].ravel())
        verts = [np.nonzero(~side)[0], np.nonzero(side)[0], joined]

        def arr(a: np.ndarray):
            return self.wp.array(np.r_[a, 0].astype(np.int32), dtype=int, device="cpu")  # never empty

        return [
            (arr(c), len(c), arr(v), len(v), arr(h), len(h))
            for c, v, h in zip(cons, verts, hinges, strict=True)
        ]

    def contact(
        self, p_wp, x_wp, sd_wp, offset: float, max_dist: float, friction: float, min_slip: float
    ) -> None:
        inputs = [
            self.mesh.id,
            p_wp,
            x_wp,
            offset,
            max_dist,
            friction,
            min_slip,
            sd_wp,
            self._cp,
            self._n,
            self._valid,
            self._push,
        ]
        launch_split(self.k_contact, p_wp.shape[0], lambda c: inputs)
