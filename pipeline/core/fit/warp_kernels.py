"""Compiled CPU kernels for the drape solver, written with NVIDIA Warp (installed with anny): coloured
Gauss-Seidel distance-constraint sweeps and exact body contact through a BVH closest-point query. The
numpy solver in `pipeline.core.fit.solver` uses them when Warp imports, and falls back to numpy otherwise."""

from __future__ import annotations

import functools
import types

import numpy as np

from pipeline.core.topology import unique_edges


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
    ):
        t = wp.tid()
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
    ):
        t = wp.tid()
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
    def solve_serial(
        p: wp.array(dtype=wp.vec3),
        ci: wp.array(dtype=int),
        cj: wp.array(dtype=int),
        rest: wp.array(dtype=float),
        k_stretch: wp.array(dtype=float),
        k_compress: wp.array(dtype=float),
        limit: wp.array(dtype=float),
        n_constraints: int,
        cp: wp.array(dtype=wp.vec3),
        nrm: wp.array(dtype=wp.vec3),
        valid: wp.array(dtype=int),
        n_points: int,
        offset: float,
        iterations: int,
        limit_passes: int,
        push: wp.array(dtype=float),
        hinge: wp.array(dtype=wp.vec4i),
        hinge_rest: wp.array(dtype=float),
        hinge_alpha: wp.array(dtype=float),
        hinge_lambda: wp.array(dtype=float),
        inv_mass: wp.array(dtype=float),
        n_hinges: int,
        free: wp.array(dtype=float),
    ):
        # One thread, true Gauss-Seidel: every distance constraint in turn, then every dihedral hinge (XPBD,
        # `bending.project_hinges`), then the contact planes, `iterations` times; then strain-limiting passes
        # over the edges. One launch per time step. `push` sums each point's normal corrections from the
        # contact planes (the normal impulse the friction of the contact pass uses).
        for v in range(n_points):
            push[v] = 0.0
        for hh in range(n_hinges):
            hinge_lambda[hh] = 0.0
        for _it in range(iterations):
            for t in range(n_constraints):
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
            for hh in range(n_hinges):
                project_hinge(p, hinge[hh], hinge_rest, hinge_alpha, hinge_lambda, inv_mass, hh)
            for v in range(n_points):
                if valid[v] == 1 and free[v] > 0.0:
                    depth = wp.dot(p[v] - cp[v], nrm[v]) - offset
                    if depth < 0.0:
                        p[v] = p[v] - nrm[v] * depth
                        push[v] = push[v] - depth
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
    ):
        t = wp.tid()
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
    ):
        # Vertex-triangle contact the other way round: a body vertex standing out through a cloth triangle (thin
        # parts, e.g. an arm through a sleeve's underside, where every cloth vertex is outside the body but a
        # triangle between them is not). The triangle is pushed out along the body normal, by barycentric shares.
        t = wp.tid()
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
    ):
        # Vertex-triangle self-contact: each cloth vertex against the cloth triangles near it (not its own), kept
        # `thickness` apart on the side of the triangle where the vertex was at the step's start (`x`), so a
        # vertex that crossed a triangle during the step is brought back, not pushed on through. The correction
        # is shared between the vertex and the triangle's corners (by barycentric weights), accumulated.
        t = wp.tid()
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
    ):
        # Edge-edge self-contact: each cloth edge against the cloth edges whose swept boxes (`edge_boxes`, in a
        # BVH) overlap its own, not those sharing a vertex, each pair once (from its lower edge id), kept
        # `thickness` apart on the side they were at the step's start (`x`), so two edges that crossed (folds
        # passing through each other between vertices, which vertex-triangle contact misses) are brought back.
        # The correction is shared between the four vertices by the closest points' parameters, accumulated.
        e = wp.tid()
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
    ):
        # Edge-edge contact with the (still) body: each cloth edge against the body edges (a BVH of their boxes)
        # near its swept box, kept `thickness` off on the side it was at the step's start, so a cloth edge does
        # not cut through a body edge (a shoulder, a finger) while both its vertices stay outside the body. Only
        # the cloth moves.
        e = wp.tid()
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

    return types.SimpleNamespace(
        wp=wp,
        body_through_cloth=body_through_cloth,
        cloth_self_contact=cloth_self_contact,
        cloth_edge_contact=cloth_edge_contact,
        body_edge_contact=body_edge_contact,
        edge_boxes=edge_boxes,
        apply_delta=apply_delta,
        ray_hits=ray_hits,
        contact=contact,
        query_planes=query_planes,
        solve_serial=solve_serial,
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
        wp.launch(self.kernel, dim=n, inputs=[self.mesh.id, pts, max_dist, cp, face, uv, sign], device="cpu")
        wp.synchronize()
        u, v = uv.numpy()[:, 0].astype(np.float64), uv.numpy()[:, 1].astype(np.float64)
        bary = np.stack([u, v, 1.0 - u - v], axis=1)
        return (
            cp.numpy().astype(np.float64),
            face.numpy().astype(np.int64),
            bary,
            sign.numpy().astype(np.float64),
        )


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
        wp, self.k_contact, self.k_query, self.k_serial = k.wp, k.contact, k.query_planes, k.solve_serial
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
        # dihedral hinges (`bending.hinges`) with rest angles, XPBD compliance / dt^2 and inverse vertex masses
        self.n_hinges = 0 if hinges is None else len(hinges)
        n_h = max(self.n_hinges, 1)
        h = np.zeros((n_h, 4), np.int32) if not self.n_hinges else np.asarray(hinges, np.int32)
        self.hinge = wp.array(h, dtype=wp.vec4i, device=dev)
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
            self._delta = wp.zeros(p_wp.shape[0], dtype=wp.vec3, device="cpu")
            self._count = wp.zeros(p_wp.shape[0], dtype=float, device="cpu")
        else:
            self._cloth.refit()
        wp.launch(
            k.body_through_cloth,
            dim=self._bnrm.shape[0],
            inputs=[
                self._cloth.id,
                self._faces,
                self.mesh.points,
                self._bnrm,
                offset,
                max_dist,
                max_slide,
                self._delta,
                self._count,
            ],
            device="cpu",
        )
        wp.launch(k.apply_delta, dim=p_wp.shape[0], inputs=[p_wp, self._delta, self._count], device="cpu")

    def self_contact(self, p_wp, x_wp, faces: np.ndarray, thickness: float, passes: int = 2) -> None:
        """Vertex-triangle self-contact passes (`cloth_self_contact`) over the cloth's own BVH, built on the
        first call over `p_wp` and refitted before each pass."""
        wp, k = self.wp, warp()
        if getattr(self, "_self", None) is None or self._self_points is not p_wp:
            self._self_points = p_wp
            self._self_faces = wp.array(np.asarray(faces, np.int32).ravel(), dtype=int, device="cpu")
            self._self = wp.Mesh(points=p_wp, indices=self._self_faces)
            self._self_delta = wp.zeros(p_wp.shape[0], dtype=wp.vec3, device="cpu")
            self._self_count = wp.zeros(p_wp.shape[0], dtype=float, device="cpu")
        for _ in range(passes):
            self._self.refit()
            wp.launch(
                k.cloth_self_contact,
                dim=p_wp.shape[0],
                inputs=[
                    self._self.id,
                    self._self_faces,
                    p_wp,
                    x_wp,
                    thickness,
                    self._self_delta,
                    self._self_count,
                ],
                device="cpu",
            )
            wp.launch(
                k.apply_delta,
                dim=p_wp.shape[0],
                inputs=[p_wp, self._self_delta, self._self_count],
                device="cpu",
            )

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
            self._edge_delta = wp.zeros(n_v, dtype=wp.vec3, device="cpu")
            self._edge_count = wp.zeros(n_v, dtype=float, device="cpu")
            if getattr(self, "_body_bvh", None) is None:
                bp = self.mesh.points.numpy()
                be = unique_edges(self.mesh.indices.numpy().reshape(-1, 3)).astype(np.int32)
                self._body_edges = wp.array(be, dtype=wp.vec2i, device="cpu")
                lo, hi = np.minimum(bp[be[:, 0]], bp[be[:, 1]]), np.maximum(bp[be[:, 0]], bp[be[:, 1]])
                self._body_lo = wp.array(lo.astype(np.float32), dtype=wp.vec3, device="cpu")
                self._body_hi = wp.array(hi.astype(np.float32), dtype=wp.vec3, device="cpu")
                self._body_bvh = wp.Bvh(self._body_lo, self._body_hi)
        n_e, d, c = self._edges_wp.shape[0], self._edge_delta, self._edge_count
        for _ in range(passes):
            pad = max(thickness, body_offset)
            wp.launch(k.edge_boxes, dim=n_e, inputs=[self._edges_wp, p_wp, x_wp, pad, self._lo, self._hi])
            if self._edge_bvh is None:
                self._edge_bvh = wp.Bvh(self._lo, self._hi)
            else:
                self._edge_bvh.refit()
            wp.launch(
                k.cloth_edge_contact,
                dim=n_e,
                inputs=[self._edge_bvh.id, self._edges_wp, self._lo, self._hi, p_wp, x_wp, thickness, d, c],
                device="cpu",
            )
            wp.launch(k.apply_delta, dim=n_v, inputs=[p_wp, d, c], device="cpu")
            inputs = [
                self._body_bvh.id,
                self.mesh.points,
                self._body_edges,
                self._edges_wp,
                self._lo,
                self._hi,
            ]
            wp.launch(
                k.body_edge_contact,
                dim=n_e,
                inputs=[*inputs, p_wp, x_wp, body_offset, d, c],
                device="cpu",
            )
            wp.launch(k.apply_delta, dim=n_v, inputs=[p_wp, d, c], device="cpu")

    def query(self, p_wp, max_dist: float) -> None:
        n = p_wp.shape[0]
        if getattr(self, "_cp", None) is None or self._cp.shape[0] != n:
            self._cp = self.wp.zeros(n, dtype=self.wp.vec3, device="cpu")
            self._n = self.wp.zeros(n, dtype=self.wp.vec3, device="cpu")
            self._valid = self.wp.zeros(n, dtype=int, device="cpu")
            self._push = self.wp.zeros(n, dtype=float, device="cpu")
        self.wp.launch(
            self.k_query,
            dim=n,
            inputs=[self.mesh.id, p_wp, max_dist, self._cp, self._n, self._valid],
            device="cpu",
        )

    def solve(self, p_wp, offset: float, iterations: int, limit_passes: int = 2) -> None:
        """All constraint iterations and contact planes of one step in a single serial Gauss-Seidel launch."""
        self.wp.launch(
            self.k_serial,
            dim=1,
            inputs=[
                p_wp,
                self.ci,
                self.cj,
                self.rest,
                self.ks,
                self.kc,
                self.limit,
                self.n_constraints,
                self._cp,
                self._n,
                self._valid,
                p_wp.shape[0],
                offset,
                iterations,
                limit_passes,
                self._push,
                self.hinge,
                self.hinge_rest,
                self.hinge_alpha,
                self.hinge_lambda,
                self.inv_mass,
                self.n_hinges,
                self.free,
            ],
            device="cpu",
        )

    def contact(
        self, p_wp, x_wp, sd_wp, offset: float, max_dist: float, friction: float, min_slip: float
    ) -> None:
        self.wp.launch(
            self.k_contact,
            dim=p_wp.shape[0],
            inputs=[
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
            ],
            device="cpu",
        )
