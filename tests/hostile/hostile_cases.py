"""The hostile-input corpus, generated (no binary blobs are checked in): each case writes its files into a
case folder and returns the command-line arguments of one `python -m pipeline` call.

Layout of a case folder: `in/` holds the input, `out/` is the output folder, `secret/` holds files outside the
input's folder that no output may ever contain (they carry SECRET_MARKER), `tmp/` is the child's $TMPDIR.

REFUSED cases must end in exit code 2 and exactly one `error:` line on stderr, quickly and within a memory
limit. SKIPPED cases name a file outside the garment's folder (or a FIFO) only as a texture or material
library: the clean-up succeeds with a warning and no output holds anything from outside."""

from __future__ import annotations

import gzip
import json
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

SECRET_MARKER = b"SECRET-MARKER-7f3a"


def _secret(case: Path) -> Path:
    d = case / "secret"
    d.mkdir(exist_ok=True)
    (d / "passwd").write_bytes(b"root:x:0:0:" + SECRET_MARKER + b"\n")
    png = _png(8, 8, text=SECRET_MARKER)
    (d / "tex.png").write_bytes(png)
    (d / "data.bin").write_bytes(SECRET_MARKER * 64)
    return d


def _png(w: int, h: int, text: bytes = b"", pixels: bool = True) -> bytes:
    """A PNG whose header says w x h (with real pixel data only when `pixels`: a bomb claims more than it has)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + bytes([200, 60, 60] * w) for _ in range(h)) if pixels else b"\0" * 64
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    body += chunk(b"tEXt", b"Comment\0" + text) if text else b""
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def tube_obj(rings: int = 8, around: int = 16, radius: float = 0.15, height: float = 0.6) -> str:
    """A skirt-like open tube (metres) with UVs: a valid garment for the cases whose hostility lies elsewhere."""
    lines, faces = [], []
    for r in range(rings):
        for a in range(around):
            t = 2 * np.pi * a / around
            lines.append(
                f"v {radius * np.cos(t):.5f} {height * r / (rings - 1):.5f} {radius * np.sin(t):.5f}"
            )
            lines.append(f"vt {a / around:.5f} {r / (rings - 1):.5f}")
    for r in range(rings - 1):
        for a in range(around):
            i, j = r * around + a + 1, r * around + (a + 1) % around + 1
            k, m = i + around, j + around
            faces += [f"f {i}/{i} {j}/{j} {m}/{m}", f"f {i}/{i} {m}/{m} {k}/{k}"]
    return "\n".join(lines + ["usemtl cloth"] + faces) + "\n"


def _write(case: Path, name: str, data: bytes | str) -> Path:
    p = case / "in" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _clean(path: Path, *extra: str) -> list[str]:
    return ["clean", str(path), "--out", "out/clean.glb", "--report", "out/report.json", *extra]


# --- GLB / glTF helpers -------------------------------------------------------------------------------------


def _glb(doc: dict, bin_data: bytes = b"", version: int = 2, length: int | None = None) -> bytes:
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    bin_data += b"\0" * (-len(bin_data) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text
    if bin_data:
        body += struct.pack("<II", len(bin_data), 0x004E4942) + bin_data
    return struct.pack("<III", 0x46546C67, version, length or 12 + len(body)) + body


def _triangle_doc(buffer: dict, count: int = 3, view: bool = True) -> dict:
    acc = {"componentType": 5126, "type": "VEC3", "count": count}
    if view:
        acc["bufferView"] = 0
    return {
        "asset": {"version": "2.0"},
        "buffers": [buffer],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "accessors": [acc],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
    }


TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype="<f4").tobytes()


# --- FBX helpers --------------------------------------------------------------------------------------------


def _fbx_node(name: bytes, props: bytes, nprops: int, offset: int, children: bytes = b"") -> bytes:
    header_len = 13 + len(name)
    end = offset + header_len + len(props) + len(children)
    return struct.pack("<IIIB", end, nprops, len(props), len(name)) + name + props + children


def _fbx(nodes: Callable[[int], bytes], version: int = 7400) -> bytes:
    head = b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", version)
    return head + nodes(len(head)) + b"\0" * 13 + b"\0" * 160


# --- the cases ----------------------------------------------------------------------------------------------


def refused_cases() -> dict[str, Callable[[Path], list[str]]]:
    """name -> builder(case folder) -> argv; every one must be refused with exit 2 and one line."""
    c: dict[str, Callable[[Path], list[str]]] = {}
    tube = tube_obj()
    for add in (
        _mesh_cases,
        _ply_stl_cases,
        _gltf_cases,
        _fbx_usd_blend_cases,
        _measurement_cases,
        _output_cases,
        _capture_batch_cases,
    ):
        add(c, tube)
    return c


def _mesh_cases(c: dict, tube: str) -> None:
    # OBJ: broken meshes, non-finite numbers, sizes
    c["obj-nan"] = lambda d: _clean(_write(d, "g.obj", "v nan 0 0\n" + tube))
    c["obj-inf"] = lambda d: _clean(_write(d, "g.obj", tube + "v 1 -inf 0\n"))
    c["obj-infinity-word"] = lambda d: _clean(_write(d, "g.obj", tube.replace("v 0.15000", "v Infinity", 1)))
    c["obj-overflow"] = lambda d: _clean(_write(d, "g.obj", "v 1e999 0 0\n" + tube))
    c["obj-binary"] = lambda d: _clean(_write(d, "g.obj", b"v 0 0 0\n\0\0\0\x01\x02garbage"))
    c["obj-empty"] = lambda d: _clean(_write(d, "g.obj", b""))
    c["obj-no-faces"] = lambda d: _clean(_write(d, "g.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n"))
    c["obj-one-line-no-newline"] = lambda d: _clean(_write(d, "g.obj", "# " + "x" * 3_000_000))
    c["obj-one-triangle"] = lambda d: _clean(_write(d, "g.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"))
    c["obj-faces-over-limit"] = lambda d: _clean(_write(d, "g.obj", tube), "--max-faces", "100")
    c["obj-unsupported-suffix"] = lambda d: _clean(_write(d, "g.xyz", tube))
    c["obj-missing"] = lambda d: _clean(d / "in" / "missing.obj")

    def fifo(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / "in" / "g.obj")
        return _clean(d / "in" / "g.obj")

    def folder(d: Path) -> list[str]:
        (d / "in" / "g.obj").mkdir(parents=True)
        return _clean(d / "in" / "g.obj")

    def dev_zero(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.symlink("/dev/zero", d / "in" / "g.obj")
        return _clean(d / "in" / "g.obj")

    def link_loop(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.symlink("b.obj", d / "in" / "a.obj")
        os.symlink("a.obj", d / "in" / "b.obj")
        return _clean(d / "in" / "a.obj")

    c.update(
        {"obj-fifo": fifo, "obj-folder": folder, "obj-dev-zero": dev_zero, "obj-symlink-loop": link_loop}
    )


def _ply_stl_cases(c: dict, tube: str) -> None:
    # PLY: headers that promise more than the file holds
    def ply(body: str, data: bytes = b"") -> Callable[[Path], list[str]]:
        return lambda d: _clean(_write(d, "g.ply", b"ply\n" + body.encode() + b"end_header\n" + data))

    xyz = "property float x\nproperty float y\nproperty float z\n"
    faces = "element face 1\nproperty list uchar int vertex_indices\n"
    c["ply-4e9-vertices"] = ply(f"format binary_little_endian 1.0\nelement vertex 4000000000\n{xyz}{faces}")
    c["ply-vertices-beyond-file"] = ply(f"format binary_little_endian 1.0\nelement vertex 1000\n{xyz}{faces}")
    c["ply-faces-over-limit"] = ply(
        f"format binary_little_endian 1.0\nelement vertex 3\n{xyz}element face 5000000\n"
        "property list uchar int vertex_indices\n"
    )
    c["ply-ascii-short"] = ply(f"format ascii 1.0\nelement vertex 50000\n{xyz}{faces}", b"0 0 0\n")
    c["ply-no-end-header"] = lambda d: _clean(_write(d, "g.ply", b"ply\nformat ascii 1.0\n" + b"x" * 70_000))
    c["ply-bad-format"] = ply(f"format pickled 1.0\nelement vertex 3\n{xyz}")
    c["ply-bad-type"] = ply("format ascii 1.0\nelement vertex 3\nproperty quaternion x\n")
    c["ply-not-a-count"] = ply(f"format ascii 1.0\nelement vertex -5\n{xyz}")
    c["ply-png-inside"] = lambda d: _clean(_write(d, "g.ply", _png(4, 4)))
    c["ply-point-cloud"] = ply(f"format ascii 1.0\nelement vertex 3\n{xyz}", b"0 0 0\n1 0 0\n0 1 0\n")

    # STL
    c["stl-count-mismatch"] = lambda d: _clean(
        _write(d, "g.stl", b"\0" * 80 + struct.pack("<I", 10**9) + b"\0" * 50)
    )
    c["stl-too-short"] = lambda d: _clean(_write(d, "g.stl", b"\0" * 40))
    c["stl-over-limit"] = lambda d: _clean(
        _write(d, "g.stl", b"\0" * 80 + struct.pack("<I", 200) + b"\0" * 50 * 200), "--max-faces", "100"
    )


def _gltf_cases(c: dict, tube: str) -> None:
    # glTF / GLB: bombs, traversal, lies
    bomb = {"componentType": 5126, "type": "VEC3", "count": 600_000_000}
    c["glb-accessor-bomb"] = lambda d: _clean(
        _write(
            d,
            "g.glb",
            _glb(
                {
                    "asset": {"version": "2.0"},
                    "accessors": [bomb],
                    "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
                }
            ),
        )
    )
    c["glb-version-1"] = lambda d: _clean(_write(d, "g.glb", _glb({"asset": {}}, version=1)))
    c["glb-length-lies"] = lambda d: _clean(_write(d, "g.glb", _glb({"asset": {}}, length=10**9)))
    c["glb-json-chunk-lies"] = lambda d: _clean(
        _write(
            d,
            "g.glb",
            struct.pack("<III", 0x46546C67, 2, 40) + struct.pack("<II", 10**6, 0x4E4F534A) + b"{}" * 10,
        )
    )
    c["glb-deep-json"] = lambda d: _clean(
        _write(d, "g.glb", _glb({"asset": {}, "extras": json.loads("[" * 500 + "]" * 500)}))
    )
    c["glb-json-100k-deep"] = lambda d: _clean(
        _write(d, "g.glb", _glb_raw(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"))
    )
    c["glb-json-nan"] = lambda d: _clean(_write(d, "g.glb", _glb_raw(b'{"asset": {}, "x": NaN}')))
    c["glb-image-bomb"] = lambda d: _clean(_write(d, "g.glb", _glb_image_bomb()))
    c["glb-buffer-lies"] = lambda d: _clean(
        _write(d, "g.glb", _glb(_triangle_doc({"byteLength": 10**9}), TRIANGLE))
    )

    def gltf(buffer_uri: str, secret_copy: bool = True) -> Callable[[Path], list[str]]:
        def build(d: Path) -> list[str]:
            _secret(d)
            doc = _triangle_doc({"byteLength": 36, "uri": buffer_uri})
            return _clean(_write(d, "g.gltf", json.dumps(doc)))

        return build

    c["gltf-buffer-traversal"] = gltf("../secret/data.bin")
    c["gltf-buffer-deep-traversal"] = gltf("../../../../../../../../etc/hostname")
    c["gltf-buffer-absolute"] = gltf("/etc/hostname")
    c["gltf-buffer-percent-escaped"] = gltf("..%2Fsecret%2Fdata.bin")
    c["gltf-buffer-url"] = gltf("http://example.com/data.bin")
    c["gltf-buffer-file-url"] = gltf("file:///etc/hostname")

    def gltf_buffer_fifo(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / "in" / "data.bin")
        return _clean(_write(d, "g.gltf", json.dumps(_triangle_doc({"byteLength": 36, "uri": "data.bin"}))))

    def gltf_buffer_symlink_out(d: Path) -> list[str]:
        secret = _secret(d)
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.symlink(secret / "data.bin", d / "in" / "data.bin")
        return _clean(_write(d, "g.gltf", json.dumps(_triangle_doc({"byteLength": 36, "uri": "data.bin"}))))

    c["gltf-buffer-fifo"] = gltf_buffer_fifo
    c["gltf-buffer-symlink-out"] = gltf_buffer_symlink_out
    c["gltf-accessor-outside-view"] = lambda d: _clean(
        _write(
            d, "g.gltf", json.dumps(_triangle_doc({"byteLength": 36, "uri": _data_uri(TRIANGLE)}, count=1000))
        )
    )
    c["gltf-view-outside-buffer"] = lambda d: _clean(
        _write(
            d, "g.gltf", json.dumps({**_triangle_doc({"byteLength": 12, "uri": _data_uri(TRIANGLE[:12])})})
        )
    )
    c["gltf-array"] = lambda d: _clean(_write(d, "g.gltf", "[1, 2, 3]"))
    c["gltf-invalid-json"] = lambda d: _clean(_write(d, "g.gltf", '{"asset": '))
    c["gltf-infinity"] = lambda d: _clean(_write(d, "g.gltf", '{"asset": {"version": Infinity}}'))


def _fbx_usd_blend_cases(c: dict, tube: str) -> None:
    # FBX: garbage, ASCII, node lies, array bombs
    rng = np.random.default_rng(3)
    c["fbx-garbage-3kb"] = lambda d: _clean(_write(d, "g.fbx", b"FBX" + rng.bytes(3000)))
    c["fbx-header-then-garbage"] = lambda d: _clean(
        _write(d, "g.fbx", b"Kaydara FBX Binary  \x00\x1a\x00" + struct.pack("<I", 7400) + rng.bytes(3000))
    )
    c["fbx-ascii"] = lambda d: _clean(
        _write(d, "g.fbx", "; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n")
    )
    c["fbx-version"] = lambda d: _clean(_write(d, "g.fbx", _fbx(lambda o: b"", version=6100)))
    c["fbx-node-overruns"] = lambda d: _clean(
        _write(d, "g.fbx", _fbx(lambda o: struct.pack("<IIIB", 10**9, 0, 0, 4) + b"Objs"))
    )
    big = zlib.compress(b"\0" * 1000)
    array_bomb = b"d" + struct.pack("<III", 500_000_000, 1, len(big)) + big
    c["fbx-array-bomb"] = lambda d: _clean(
        _write(d, "g.fbx", _fbx(lambda o: _fbx_node(b"Vertices", array_bomb, 1, o)))
    )
    c["fbx-unknown-property"] = lambda d: _clean(
        _write(d, "g.fbx", _fbx(lambda o: _fbx_node(b"Objects", b"Zxxxx", 1, o)))
    )

    # USD and .blend
    c["usdc-toc-outside"] = lambda d: _clean(
        _write(d, "g.usdc", b"PXR-USDC" + b"\0" * 8 + struct.pack("<q", 10**12) + b"\0" * 64)
    )

    def usdz_bomb(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(d / "in" / "g.usdz", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("g.usdc", b"\0" * 20_000_000)
        return _clean(d / "in" / "g.usdz")

    c["usdz-compressed-bomb"] = usdz_bomb
    c["usd-wrong-header"] = lambda d: _clean(_write(d, "g.usd", b"#!/bin/sh\nrm -rf /\n"))
    c["blend-no-header"] = lambda d: _clean(
        _write(d, "g.blend", b"import os\nos.system('touch /tmp/pwned')\n")
    )
    c["blend-gzip-garbage"] = lambda d: _clean(_write(d, "g.blend", gzip.compress(b"not a blend file" * 100)))


def _measurement_cases(c: dict, tube: str) -> None:
    # measurements: deep JSON, NaN/Inf, wrong units, absurd combinations, huge values
    def meas(text: str | bytes, *extra: str) -> Callable[[Path], list[str]]:
        return lambda d: [
            "avatar",
            "--measurements",
            str(_write(d, "m.json", text)),
            "--out",
            "out/a.blend",
            *extra,
        ]

    good = '{"unit": "cm", "stature": 168, "waist_girth": 74, "hip_girth": 99}'
    c["meas-100k-deep"] = meas("[" * 100_000 + "]" * 100_000)
    c["meas-deep-object"] = meas('{"unit": "cm", "stature": ' + "[" * 200 + "]" * 200 + "}")
    c["meas-infinity"] = meas('{"unit": "cm", "stature": Infinity}')
    c["meas-nan"] = meas('{"unit": "cm", "stature": NaN}')
    c["meas-overflow"] = meas('{"unit": "cm", "stature": 1e400}')
    c["meas-millimetres"] = meas('{"unit": "mm", "stature": 1680, "waist_girth": 740}')
    c["meas-mm-values-as-cm"] = meas('{"unit": "cm", "stature": 1680}')
    c["meas-metres-as-cm"] = meas('{"unit": "cm", "stature": 1.68}')
    c["meas-hip-missed-39cm"] = meas('{"unit": "cm", "stature": 170, "waist_girth": 140, "hip_girth": 100}')
    c["meas-bust-vs-hip"] = meas('{"unit": "cm", "stature": 170, "bust_girth": 150, "hip_girth": 78}')
    c["meas-legs-longer-than-body"] = meas('{"unit": "cm", "stature": 140, "inside_leg_length": 98}')
    c["meas-string-value"] = meas('{"unit": "cm", "stature": "tall"}')
    c["meas-huge-key"] = meas('{"unit": "cm", "' + "k" * 900_000 + '": 1}')
    c["meas-huge-file"] = meas(b'{"unit": "cm", "pad": "' + b"x" * 3_000_000 + b'"}')
    c["meas-list"] = meas("[1, 2, 3]")
    c["meas-binary"] = meas(b"\xff\xfe\x00garbage")
    c["avatar-out-folder"] = lambda d: (_mk(d / "out" / "a.blend"), meas(good)(d))[1]
    c["avatar-out-under-proc"] = lambda d: [
        "avatar",
        "--measurements",
        str(_write(d, "m.json", good)),
        "--out",
        "/proc/a.blend",
    ]
    c["avatar-out-under-file"] = lambda d: [
        "avatar",
        "--measurements",
        str(_write(d, "m.json", good)),
        "--out",
        str(_write(d, "f.txt", "x")) + "/a.blend",
    ]
    c["avatar-out-suffix"] = lambda d: ["avatar", "--size", "M", "--sex", "female", "--out", "out/a.png"]

    def meas_fifo(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / "in" / "m.json")
        return ["avatar", "--measurements", str(d / "in" / "m.json"), "--out", "out/a.blend"]

    c["meas-fifo"] = meas_fifo


def _output_cases(c: dict, tube: str) -> None:
    # clean outputs checked before the long work
    c["clean-out-folder"] = lambda d: (_mk(d / "out" / "clean.glb"), _clean(_write(d, "g.obj", tube)))[1]
    c["clean-report-folder"] = lambda d: (_mk(d / "out" / "report.json"), _clean(_write(d, "g.obj", tube)))[1]
    c["clean-out-under-file"] = lambda d: [
        "clean",
        str(_write(d, "g.obj", tube)),
        "--out",
        str(_write(d, "f", "x")) + "/c.glb",
    ]
    c["clean-out-under-proc"] = lambda d: [
        "clean",
        str(_write(d, "g.obj", tube)),
        "--out",
        "/proc/self/c.glb",
    ]

    # fit: malformed avatar scenes
    c["fit-avatar-not-blend"] = lambda d: [
        "fit",
        "--garment",
        str(_write(d, "g.obj", tube)),
        "--avatar",
        str(_write(d, "a.blend", "hello")),
        "--out",
        "out/f.blend",
    ]
    c["fit-avatar-folder"] = lambda d: [
        "fit",
        "--garment",
        str(_write(d, "g.obj", tube)),
        "--avatar",
        str(_mk(d / "in" / "a.blend")),
        "--out",
        "out/f.blend",
    ]
    c["fit-one-triangle"] = lambda d: [
        "fit",
        "--garment",
        str(_write(d, "g.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")),
        "--size",
        "M",
        "--sex",
        "female",
        "--out",
        "out/f.blend",
    ]


def _capture_batch_cases(c: dict, tube: str) -> None:
    # capture frame folders
    def rgbd(intrinsics: str, color: bytes | None = None) -> Callable[[Path], list[str]]:
        def build(d: Path) -> list[str]:
            _write(d, "cap/intrinsics.json", intrinsics)
            _write(d, "cap/color/000000.png", color or _png(64, 48))
            _write(d, "cap/depth/000000.png", _png(64, 48))
            return ["measure", "--rgbd", str(d / "in" / "cap"), "--out", "out/m.json"]

        return build

    intr = {"width": 64, "height": 48, "fx": 60.0, "fy": 60.0, "ppx": 32.0, "ppy": 24.0, "depth_scale": 0.001}
    c["intrinsics-infinity"] = rgbd(json.dumps(intr).replace("60.0", "Infinity", 1))
    c["intrinsics-deep"] = rgbd("[" * 100_000 + "]" * 100_000)
    c["intrinsics-huge-size"] = rgbd(json.dumps({**intr, "width": 10**9}))
    c["rgbd-png-bomb"] = rgbd(json.dumps(intr), _png(25_000, 25_000, pixels=False))

    # batch job files
    def job(obj: dict | str, garment: bool = True) -> Callable[[Path], list[str]]:
        def build(d: Path) -> list[str]:
            if garment:
                _write(d, "g.obj", tube)
            text = obj if isinstance(obj, str) else json.dumps(obj)
            return ["batch", str(_write(d, "job.json", text))]

        return build

    item = {"id": "a", "garment": "g.obj", "size": "M", "sex": "female"}
    c["job-fabric-number"] = job({"version": 1, "output": "../out", "items": [{**item, "fabric": 5}]})
    c["job-id-report-name"] = job(
        {"version": 1, "output": "../out", "items": [{**item, "id": "batch_report.json"}]}
    )
    c["job-id-traversal"] = job({"version": 1, "output": "../out", "items": [{**item, "id": "../../x"}]})
    c["job-output-file"] = job({"version": 1, "output": "g.obj", "items": [item]})
    c["job-100k-deep"] = job("[" * 100_000 + "]" * 100_000)
    c["job-nan"] = job('{"version": NaN}')
    c["job-garment-outside-fifo"] = lambda d: (
        os.mkfifo(_mk(d / "in") / "fifo.obj"),
        job({"version": 1, "output": "../out", "items": [{**item, "garment": "fifo.obj"}]})(d),
    )[1]

    # tryon
    c["tryon-out-is-file"] = lambda d: [
        "tryon",
        "--garment",
        str(_write(d, "g.obj", tube)),
        "--out",
        str(_write(d, "o", "x")),
    ]


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _data_uri(data: bytes) -> str:
    import base64

    return "data:application/octet-stream;base64," + base64.b64encode(data).decode()


def _glb_raw(json_bytes: bytes) -> bytes:
    json_bytes += b" " * (-len(json_bytes) % 4)
    body = struct.pack("<II", len(json_bytes), 0x4E4F534A) + json_bytes
    return struct.pack("<III", 0x46546C67, 2, 12 + len(body)) + body


def _glb_image_bomb() -> bytes:
    png = _png(25_000, 25_000, pixels=False)
    doc = _triangle_doc({"byteLength": 36 + len(png)})
    doc["bufferViews"].append({"buffer": 0, "byteOffset": 36, "byteLength": len(png)})
    doc["images"] = [{"bufferView": 1, "mimeType": "image/png"}]
    return _glb(doc, TRIANGLE + png)


def tube_gltf() -> dict:
    """The tube of `tube_obj` as a glTF document with its buffer in a data URI (positions, UVs, indices)."""
    v = [ln.split()[1:] for ln in tube_obj().splitlines() if ln.startswith("v ")]
    t = [ln.split()[1:] for ln in tube_obj().splitlines() if ln.startswith("vt ")]
    f = [
        [int(x.split("/")[0]) - 1 for x in ln.split()[1:]]
        for ln in tube_obj().splitlines()
        if ln.startswith("f ")
    ]
    pos = np.array(v, dtype="<f4")
    uv = np.array(t, dtype="<f4")
    idx = np.array(f, dtype="<u4")
    data = pos.tobytes() + uv.tobytes() + idx.tobytes()
    views = [(0, pos.nbytes), (pos.nbytes, uv.nbytes), (pos.nbytes + uv.nbytes, idx.nbytes)]
    acc = [
        {
            "bufferView": 0,
            "componentType": 5126,
            "type": "VEC3",
            "count": len(pos),
            "min": pos.min(0).tolist(),
            "max": pos.max(0).tolist(),
        },
        {"bufferView": 1, "componentType": 5126, "type": "VEC2", "count": len(uv)},
        {"bufferView": 2, "componentType": 5125, "type": "SCALAR", "count": idx.size},
    ]
    return {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(data), "uri": _data_uri(data)}],
        "bufferViews": [{"buffer": 0, "byteOffset": o, "byteLength": n} for o, n in views],
        "accessors": acc,
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2}]}],
        "nodes": [{"mesh": 0}],
        "scenes": [{"nodes": [0]}],
        "scene": 0,
    }


def skipped_cases() -> dict[str, Callable[[Path], list[str]]]:
    """name -> builder; the garment is fine but names outside files (or a FIFO) as textures/material libraries:
    clean succeeds with a warning, and nothing from outside reaches the output."""
    c: dict[str, Callable[[Path], list[str]]] = {}
    tube = tube_obj()

    def obj_with_mtl(
        map_line: str, mtllib: str = "g.mtl", out: str = "out/clean.obj"
    ) -> Callable[[Path], list[str]]:
        def build(d: Path) -> list[str]:
            _secret(d)
            _write(d, "g.mtl", f"newmtl cloth\nKd 0.8 0.2 0.2\n{map_line}\n")
            path = _write(d, "g.obj", f"mtllib {mtllib}\n" + tube)
            return ["clean", str(path), "--out", out, "--report", "out/report.json"]

        return build

    c["obj-map-kd-etc-passwd"] = obj_with_mtl("map_Kd /etc/passwd")
    c["obj-map-kd-traversal"] = obj_with_mtl("map_Kd ../secret/tex.png")
    c["obj-map-kd-traversal-blend"] = obj_with_mtl("map_Kd -s 1 1 1 ../secret/tex.png", out="out/clean.blend")
    c["obj-mtllib-etc-passwd"] = obj_with_mtl(
        "map_Kd ../secret/tex.png", mtllib="../../../../../../etc/passwd"
    )

    def map_symlink_out(d: Path) -> list[str]:
        secret = _secret(d)
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.symlink(secret / "tex.png", d / "in" / "tex.png")
        return obj_with_mtl("map_Kd tex.png")(d)

    def mtllib_fifo(d: Path) -> list[str]:
        (d / "in").mkdir(parents=True, exist_ok=True)
        os.mkfifo(d / "in" / "fifo.mtl")
        return ["clean", str(_write(d, "g.obj", "mtllib fifo.mtl\n" + tube)), "--out", "out/clean.glb"]

    def gltf_image_out(d: Path) -> list[str]:
        _secret(d)
        doc = tube_gltf()
        doc["images"] = [{"uri": "../secret/tex.png"}]
        doc["textures"] = [{"source": 0}]
        doc["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
        doc["meshes"][0]["primitives"][0]["material"] = 0
        return ["clean", str(_write(d, "g.gltf", json.dumps(doc))), "--out", "out/clean.glb"]

    def fbx_texture_out(d: Path) -> list[str]:
        """An FBX (written by Blender) whose texture is an absolute path outside the garment's folder."""
        import bpy

        secret = _secret(d)
        (d / "in").mkdir(parents=True, exist_ok=True)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.mesh.primitive_cylinder_add(vertices=32, end_fill_type="NOTHING")
        obj = bpy.context.active_object
        mat = bpy.data.materials.new("cloth")
        tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
        tex.image = bpy.data.images.load(str(secret / "tex.png"))
        mat.node_tree.links.new(
            tex.outputs["Color"], mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"]
        )
        obj.data.materials.append(mat)
        bpy.ops.export_scene.fbx(filepath=str(d / "in" / "g.fbx"), path_mode="ABSOLUTE", embed_textures=False)
        bpy.ops.wm.read_factory_settings(use_empty=True)
        return ["clean", str(d / "in" / "g.fbx"), "--out", "out/clean.obj", "--report", "out/report.json"]

    c["fbx-texture-outside"] = fbx_texture_out
    c["obj-map-kd-symlink-out"] = map_symlink_out
    c["obj-mtllib-fifo"] = mtllib_fifo
    c["gltf-image-outside"] = gltf_image_out
    return c
