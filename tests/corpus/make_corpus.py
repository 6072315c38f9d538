#!/usr/bin/env python3
"""Writes the malformed-input corpus checked by SweepE2E.MalformedInputCorpusFailsCleanly.

Specs: the invalid-spec cases of tests/spec_test.cc applied to its base spec, one file each,
plus files that are not valid JSON at all. Data: small corrupt files in each real format.
expected.tsv lists, per file: kind, path (relative to this folder), format (data only) and the
fragment the error message must contain. Rerun after changing the cases:
    python3 tests/corpus/make_corpus.py
"""
import json
import os
import re
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = {
    "method": "random",
    "metric": {"name": "val_accuracy", "goal": "maximize"},
    "budget": {"trials": 3},
    "parameters": {
        "lr": {"distribution": "log_uniform", "min": 0.0001, "max": 0.01},
        "batch_size": {"values": [32, 64]},
        "arch": {"value": "vgg_custom"},
    },
}


def merge_patch(target, patch):  # RFC 7386
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def spec_cases():
    source = open(os.path.join(HERE, "..", "spec_test.cc")).read()
    table = source[source.index("kInvalidCases[] = {"):source.index("INSTANTIATE_TEST_SUITE_P(Cases")]
    pattern = re.compile(r'\{"(\w+)",\s*R"\((.*?)\)",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\}', re.S)
    for name, patch, fragment in pattern.findall(table):
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', fragment))
        yield name, merge_patch(BASE, json.loads(patch)), text.replace('\\"', '"')


def png(width, height, pixels):
    raw = b"".join(b"\x00" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))
    chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data +
                                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write(path, data):
    full = os.path.join(HERE, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def pixels(n, value="7"):
    return " ".join([value] * n)


def main():
    for sub in ("specs", "data"):
        shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    rows = []
    for name, doc, fragment in spec_cases():
        write(f"specs/{name}.json", json.dumps(doc, indent=2) + "\n")
        rows.append(("spec", f"specs/{name}.json", "-", fragment))
    not_json = {
        "empty_file": ("", ":1:1: invalid JSON"),
        "truncated_json": ('{"method": "random", "budget": {"trials": 3', "invalid JSON"),
        "trailing_comma": ('{"method": "grid",}', ":1:19: invalid JSON"),
        "not_an_object": ('[1, 2, 3]', "expected an object"),
        "binary_garbage": (b"\x00\xff\xfe\x01SQLite format 3\x00", "invalid JSON"),
    }
    base = json.dumps(BASE, indent=2)
    not_json.update({
        # Nesting that overflowed the stack (SIGSEGV) before the parser bounded it.
        "deep_nesting": ('{"method": "random", "parameters": ' + "[" * 100000 + "]" * 100000 + "}",
                         "parameters[0][0][0][0]"),
        "deep_nesting_top": ("[" * 100000 + "]" * 100000, "nested deeper than 64 levels"),
        # A repeated key was silently won by its last value.
        "duplicate_key": (base[:-2] + ',\n  "budget": {"trials": 30}\n}\n', "budget: key appears twice"),
        "duplicate_nested_key": (base.replace('"min": 0.0001,', '"min": 0.0001, "min": 0.001,'),
                                 "parameters.lr.min: key appears twice in one object"),
    })
    for name, (text, fragment) in not_json.items():
        write(f"specs/{name}.json", text)
        rows.append(("spec", f"specs/{name}.json", "-", fragment))
    # Source paths are checked before anything runs (before, every trial failed and run exited 0).
    missing = {
        "source_path_missing": ({"format": "fer2013", "path": "/nonexistent/fer2013.csv"},
                                "data.sources.fer.path: /nonexistent/fer2013.csv does not exist"),
        "source_path_not_a_file": ({"format": "fer2013", "path": "/"},
                                   "data.sources.fer.path: / is not a file"),
        "source_path_not_a_directory": ({"format": "jaffe", "path": "/etc/passwd"},
                                        "data.sources.fer.path: /etc/passwd is not a directory"),
    }
    for name, (source, fragment) in missing.items():
        doc = merge_patch(BASE, {"data": {"sources": {"fer": source}}})
        write(f"specs/{name}.json", json.dumps(doc, indent=2) + "\n")
        rows.append(("spec", f"specs/{name}.json", "-", fragment))

    header = "emotion,pixels,Usage\n"
    good_row = "3," + pixels(2304) + ",Training\n"
    fer = {
        "fer_bad_header": ("label,pixels\n", ":1: expected the header emotion,pixels,Usage"),
        "fer_truncated_row": (header + good_row + "4,", ":3: expected 3 fields, got 2"),
        "fer_ragged_row": (header + good_row + "4," + pixels(2304) + ",Training,extra\n", ":3: expected 3 fields, got 4"),
        "fer_short_pixels": (header + "3," + pixels(2303) + ",Training\n", ":2: expected 2304 pixel values, got 2303"),
        "fer_long_pixels": (header + "3," + pixels(2305) + ",Training\n", ":2: expected 2304 pixel values, got 2305"),
        "fer_non_numeric": (header + "3," + pixels(5) + " x7 " + pixels(2298) + ",Training\n", ':2: pixel 6 is "x7", not an integer 0-255'),
        "fer_pixel_range": (header + "3," + pixels(2304, "256") + ",Training\n", ':2: pixel 1 is "256"'),
        "fer_negative_pixel": (header + "3," + pixels(2304, "-1") + ",Training\n", ':2: pixel 1 is "-1"'),
        "fer_unknown_label": (header + "9," + pixels(2304) + ",Training\n", ':2: emotion must be an integer 0-6, got "9"'),
        "fer_text_label": (header + "happy," + pixels(2304) + ",Training\n", ':2: emotion must be an integer 0-6, got "happy"'),
        "fer_unknown_usage": (header + "1," + pixels(2304) + ",Validation\n", ':2: unknown Usage "Validation"'),
        "fer_empty_file": ("", ":1: empty file"),
        "fer_only_header": (header, "no usable images in this fer2013 source"),
        "fer_crlf_short": ((header + "3," + pixels(2303) + ",PublicTest\n").replace("\n", "\r\n"), ":2: expected 2304 pixel values, got 2303"),
    }
    for name, (text, fragment) in fer.items():
        write(f"data/{name}/fer2013.csv", text)
        rows.append(("data", f"data/{name}/fer2013.csv", "fer2013", fragment))

    face = png(8, 8, [100 + i for i in range(64)])
    write("data/folders_corrupt_png/sad/broken.png", b"\x89PNG\r\n\x1a\n garbage")
    write("data/folders_corrupt_png/happy/ok.png", face)
    rows.append(("data", "data/folders_corrupt_png", "folders", "sad/broken.png: cannot decode the image"))
    write("data/folders_truncated_png/angry/cut.png", face[: len(face) // 2])
    rows.append(("data", "data/folders_truncated_png", "folders", "angry/cut.png: cannot decode the image"))
    write("data/folders_unknown_class/bored/a.png", face)
    rows.append(("data", "data/folders_unknown_class", "folders", 'bored: unknown class folder "bored"'))
    os.makedirs(os.path.join(HERE, "data/folders_empty_class/happy"), exist_ok=True)
    write("data/folders_empty_class/happy/.keep", "")
    rows.append(("data", "data/folders_empty_class", "folders", "happy: empty class folder"))
    write("data/jaffe_bad_name/KA.XX1.99.tiff", face)
    rows.append(("data", "data/jaffe_bad_name", "jaffe", "KA.XX1.99.tiff: not a JAFFE name"))
    write("data/jaffe_corrupt/KA.HA1.29.tiff", b"II*\x00garbage")
    rows.append(("data", "data/jaffe_corrupt", "jaffe", "KA.HA1.29.tiff: cannot decode the image"))
    write("data/ckplus_no_emotion/cohn-kanade-images/S010/001/S010_001_00000001.png", face)
    rows.append(("data", "data/ckplus_no_emotion", "ckplus", "Emotion: no such directory (CK+ layout)"))
    write("data/ckplus_bad_code/cohn-kanade-images/S010/001/S010_001_00000001.png", face)
    write("data/ckplus_bad_code/Emotion/S010/001/S010_001_00000001_emotion.txt", "happy\n")
    rows.append(("data", "data/ckplus_bad_code", "ckplus", "S010_001_00000001_emotion.txt:1: expected an emotion code 0-7"))
    write("data/ckplus_no_frames/Emotion/S010/002/S010_002_00000003_emotion.txt", "   3.0000000e+00\n")
    os.makedirs(os.path.join(HERE, "data/ckplus_no_frames/cohn-kanade-images/S010"), exist_ok=True)
    write("data/ckplus_no_frames/cohn-kanade-images/S010/.keep", "")
    rows.append(("data", "data/ckplus_no_frames", "ckplus", "S010/002: no frames for this labelled sequence"))
    rows.append(("data", "data/does_not_exist", "jaffe", "does_not_exist: no such"))

    with open(os.path.join(HERE, "expected.tsv"), "w") as f:
        f.write("# kind\tpath\tformat\tfragment of the error message\n")
        for row in rows:
            f.write("\t".join(row) + "\n")
    kinds = [r[0] for r in rows]
    print(f"{kinds.count('spec')} specs, {kinds.count('data')} data files")


if __name__ == "__main__":
    main()
