"""Hostile and broken model files, made from a good one.

``HOSTILE`` maps a case name to ``(build(good_bytes) -> bad_bytes, expected
message part)``; ``make_good`` saves the small model they start from.  The
audit-hook test (``test_hostile_files.py``) loads every case in a subprocess.
"""

from __future__ import annotations

import io
import json
import struct
import warnings
import zipfile

import numpy as np

import graphc
from graphc import layers


def make_good(path) -> bytes:
    graphc.reset_names()
    x = graphc.Input((3,), name="x")
    hidden = layers.Dense(4, activation="relu", name="hidden")(x)
    y = layers.Lambda(lambda t: t * 2.0, name="double")(layers.Dense(2, name="out")(hidden))
    graphc.Model(x, y, name="good").save(path)
    with open(path, "rb") as fh:
        return fh.read()


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(items: list[tuple[str, bytes]], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the cases
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else
                             zipfile.ZIP_STORED) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return buffer.getvalue()


def replaced(data: bytes, **changes: bytes | None) -> bytes:
    """``data`` with members replaced (``None`` drops one); keys use _ for ."""
    items = members(data)
    for key, value in changes.items():
        name = key.replace("_json", ".json").replace("_npz", ".npz")
        if value is None:
            items.pop(name, None)
        else:
            items[name] = value
    return zip_of(list(items.items()))


def edit_json(data: bytes, member: str, edit) -> bytes:
    items = members(data)
    document = json.loads(items[member])
    edit(document)
    items[member] = json.dumps(document).encode()
    return zip_of(list(items.items()))


def npz(arrays: dict[str, np.ndarray], allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, array, allow_pickle=allow_pickle)
            archive.writestr(key + ".npy", member.getvalue())
    return buffer.getvalue()


def weights_of(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(members(data)["weights.npz"]), allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}


def forged_size(data: bytes, member: str, size: int) -> bytes:
    """The central directory entry of ``member`` claims ``size`` uncompressed bytes."""
    raw = bytearray(data)
    offset = 0
    while True:
        start = raw.find(b"PK\x01\x02", offset)
        name_len = struct.unpack("<H", raw[start + 28:start + 30])[0]
        if raw[start + 46:start + 46 + name_len].decode() == member:
            raw[start + 24:start + 28] = struct.pack("<I", size)
            return bytes(raw)
        offset = start + 4


def _change_version(doc):
    doc["format_version"] = 99


def _pickled_weights(data):
    arrays = weights_of(data)
    arrays["hidden/kernel"] = np.array([object()] * 3 + [None], dtype=object).reshape(4, 1)
    return replaced(data, weights_npz=npz(arrays, allow_pickle=True))


def _weights(data, **changes):
    arrays = weights_of(data)
    arrays.update(changes)
    return replaced(data, weights_npz=npz(arrays))


def _node_ref(ref):
    def edit(doc):
        doc["config"]["nodes"][1]["inputs"] = {"ref": ref}
    return edit


HOSTILE = {
    "not_a_zip": (lambda d: b"this is not a zip archive at all",
                  "not a zip archive, or truncated"),
    "truncated": (lambda d: d[:len(d) // 2], "not a zip archive, or truncated"),
    "empty": (lambda d: b"", "not a zip archive, or truncated"),
    "parent_dir_member": (lambda d: zip_of(list(members(d).items()) + [("../evil.json", b"{}")]),
                          "'../evil.json' contains a '..'"),
    "absolute_member": (lambda d: zip_of([("/etc/evil", b"x")] + list(members(d).items())),
                        "'/etc/evil' contains an absolute path"),
    "drive_member": (lambda d: zip_of([("C:evil", b"x")] + list(members(d).items())),
                     "'C:evil' contains an absolute path"),
    "backslash_member": (lambda d: zip_of([("..\\evil", b"x")] + list(members(d).items())),
                         "contains a backslash"),
    "unexpected_member": (lambda d: zip_of(list(members(d).items()) + [("run.py", b"1")]),
                          "unexpected member 'run.py'"),
    "duplicate_member": (lambda d: zip_of(list(members(d).items()) +
                                          [("config.json", members(d)["config.json"])]),
                         "member 'config.json' appears twice"),
    "missing_config": (lambda d: replaced(d, config_json=None), "it has no config.json"),
    "missing_weights": (lambda d: replaced(d, weights_npz=None), "it has no weights.npz"),
    "forged_huge_config": (lambda d: forged_size(d, "config.json", 0xFFFFFFF0),
                           "member 'config.json' declares 4,294,967,280 bytes"),
    "lying_small_size": (lambda d: forged_size(d, "config.json", 10), "corrupt or truncated"),
    "zip_bomb_config": (lambda d: replaced(d, config_json=b" " * (80 << 20)),
                        "member 'config.json' declares 83,886,080 bytes, more than the"),
    "zip_bomb_weights": (lambda d: replaced(d, weights_npz=zip_of(
        [("hidden/kernel.npy", b"\0" * (80 << 20))])), "more than 200:1 (a zip bomb)"),
    "pickled_weights": (_pickled_weights, "holds pickled Python objects (dtype object)"),
    "newer_format": (lambda d: edit_json(d, "metadata.json", _change_version),
                     "written in model-file format 99"),
    "metadata_not_json": (lambda d: replaced(d, metadata_json=b"\x80\x81"), "not valid JSON"),
    "config_not_json": (lambda d: replaced(d, config_json=b"{'a': 1}"), "not valid JSON"),
    "unknown_key": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][1][
        "config"].update(unitz=4)), "unknown key(s) 'unitz'"),
    "wrong_typed_key": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][1][
        "config"].update(units="4")), "key 'units' expects an integer >= 1, received '4'"),
    "module_in_class_name": (lambda d: edit_json(d, "config.json", lambda c: c["config"][
        "layers"][1].update(class_name="os.system", module="os")), "unknown layer 'os.system'"),
    "eval_initializer": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][1][
        "config"].update(kernel_initializer={"class_name": "eval", "module": "builtins",
                                             "config": {"source": "1"}})),
        "unknown initializer 'eval'"),
    "lambda_bytecode": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][3][
        "config"].update(function={"__code__": "YWJj", "module": "os"})),
        "a stored function needs exactly the keys 'ir'"),
    "lambda_bad_ir": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][3][
        "config"]["function"].update(ir="func @call_0(%x0: f32[N,2]) -> (f32[N,2]) {\n  "
                                        "%0: f32[N,2] = exec(%x0)\n  return %0\n}\n")),
        "the stored IR does not parse"),
    "cyclic_reference": (lambda d: edit_json(d, "config.json", _node_ref(["double", 0, 0])),
                         "comes later in 'nodes' (a cyclic or out-of-order reference)"),
    "dangling_reference": (lambda d: edit_json(d, "config.json", _node_ref(["ghost", 0, 0])),
                           "refers to layer 'ghost', which the model does not have"),
    "wrong_weight_shape": (lambda d: _weights(d, **{"out/kernel": np.zeros((4, 3), np.float32)}),
                           "weight 'out/kernel' of model 'good' has shape (4, 2); the file "
                           "holds shape (4, 3)"),
    "wrong_weight_dtype": (lambda d: _weights(d, **{"out/bias": np.zeros(2, np.float64)}),
                           "weight 'out/bias' of model 'good' is float32; the file holds "
                           "float64"),
    "huge_architecture": (lambda d: edit_json(d, "config.json", lambda c: c["config"]["layers"][
        1]["config"].update(units=1 << 30)), "more than the weights stored in the file allow"),
    "bad_npy_header": (lambda d: replaced(d, weights_npz=zip_of(
        [("w.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': __import__('os')}")])),
        "malformed .npy header"),
    "short_npy_data": (lambda d: replaced(d, weights_npz=zip_of(
        [("w.npy", b"\x93NUMPY\x01\x00\x46\x00" +
          b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000), }".ljust(70))])),
        "needs 4,000,000,000 bytes of data, the member holds 0"),
}
