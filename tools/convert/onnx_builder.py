"""A small ONNX graph builder shared by llama2c_to_onnx.py and random_model.py.

- `Graph` appends nodes in topological order with torch.onnx.export-style
  names: node "/model/layers.0/self_attn/q_proj/MatMul", output
  "/model/layers.0/self_attn/q_proj/MatMul_output_0". Small constants (shapes,
  axes, scalars) are Constant nodes, created once per value.
- Weights are initializers, stored by a `Storage`:
    InlineStorage    raw_data inside the .onnx file (the default)
    ExternalStorage  one side file in ONNX's external-data format
                     (location/offset/length), each tensor aligned to 4096
                     bytes; tensors are written as they are added, row chunk by
                     row chunk, so a model larger than RAM can be written.
  Both produce the same graph; ONNX readers must accept both.
- `save_model` serializes deterministically (same inputs, same bytes).
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ALIGN = 4096
MIN_OPSET = 18


def ir_version_for(opset):
    """The lowest ONNX IR version that allows `opset` of the default domain
    (IR 8 for opset 18: readable by ONNX 1.13 and newer)."""
    for row in onnx.helper.VERSION_TABLE:
        ir, op = row[1], row[2]
        if op >= opset:
            return ir
    raise ValueError(f"opset {opset} is newer than this onnx package knows "
                     f"(up to {onnx.defs.onnx_opset_version()})")


class InlineStorage:
    """Initializers with their bytes in raw_data."""

    external = False

    def __init__(self):
        self._arrays = {}

    def add(self, name, array):
        array = np.ascontiguousarray(array, dtype=np.float32)
        self._arrays[name] = array
        return numpy_helper.from_array(array, name)

    def add_chunks(self, name, shape, chunks):
        return self.add(name, np.concatenate(list(chunks)).reshape(shape))

    def add_transpose_of(self, name, src_name):
        return self.add(name, self._arrays[src_name].T)

    def close(self):
        pass


class ExternalStorage:
    """Initializers whose bytes go to `data_path` (ONNX external data). The
    model file must be saved in the same folder as `data_path`."""

    external = True

    def __init__(self, data_path):
        self.data_path = data_path
        self.location = os.path.basename(data_path)
        self._f = open(data_path, "wb")
        self._end = 0
        self._tensors = {}  # name -> (offset, shape)

    def _reserve(self, name, shape):
        offset = -(-self._end // ALIGN) * ALIGN
        length = 4 * int(np.prod(shape))
        self._end = offset + length
        self._tensors[name] = (offset, tuple(shape))
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.FLOAT
        t.dims.extend(shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", self.location), ("offset", str(offset)),
                     ("length", str(length))):
            e = t.external_data.add()
            e.key = k
            e.value = v
        return t, offset, length

    def _write_at(self, offset, data):
        self._f.seek(offset)
        self._f.write(data)

    def add(self, name, array):
        array = np.ascontiguousarray(array, dtype="<f4")
        t, offset, _ = self._reserve(name, array.shape)
        self._write_at(offset, array.tobytes())
        return t

    def add_chunks(self, name, shape, chunks):
        """`chunks` yields float32 arrays whose concatenation (flattened) is
        the tensor; only one chunk is in memory at a time."""
        t, offset, length = self._reserve(name, shape)
        pos = offset
        for c in chunks:
            b = np.ascontiguousarray(c, dtype="<f4").tobytes()
            self._write_at(pos, b)
            pos += len(b)
        if pos - offset != length:
            raise ValueError(f"tensor '{name}': chunks gave {pos - offset} "
                             f"bytes, expected {length}")
        return t

    def add_transpose_of(self, name, src_name, rows_per_chunk=4096):
        """The transpose of an already written 2-D tensor, read back from
        the data file a block of rows at a time."""
        src_off, (rows, cols) = self._tensors[src_name]
        t, offset, _ = self._reserve(name, (cols, rows))
        self._f.flush()
        with open(self.data_path, "rb") as src:
            for r0 in range(0, rows, rows_per_chunk):
                r1 = min(rows, r0 + rows_per_chunk)
                src.seek(src_off + 4 * r0 * cols)
                block = np.frombuffer(src.read(4 * (r1 - r0) * cols),
                                      dtype="<f4").reshape(r1 - r0, cols)
                blockT = np.ascontiguousarray(block.T)  # [cols, r1-r0]
                for c in range(cols):
                    self._write_at(offset + 4 * (c * rows + r0),
                                   blockT[c].tobytes())
        return t

    def close(self):
        # Extend the file to the end of the last tensor.
        self._f.truncate(self._end)
        self._f.close()


class Graph:
    """Builds one ONNX graph in topological order."""

    def __init__(self, storage):
        self.storage = storage
        self.nodes = []
        self.initializers = []
        self.inputs = []
        self.outputs = []
        self._scope = []
        self._counts = {}
        self._consts = {}

    # -- naming ------------------------------------------------------------
    def scope(self, name):
        graph = self

        class _Scope:
            def __enter__(self):
                graph._scope.append(name)

            def __exit__(self, *exc):
                graph._scope.pop()

        return _Scope()

    def _node_name(self, op_type):
        base = "/" + "/".join(self._scope + [op_type])
        k = self._counts.get(base, 0)
        self._counts[base] = k + 1
        return base if k == 0 else f"{base}_{k}"

    # -- nodes -------------------------------------------------------------
    def op(self, op_type, *inputs, outputs=1, name=None, **attrs):
        """Appends a node; returns its output name (or a list of names)."""
        node_name = self._node_name(op_type)
        if isinstance(outputs, int):
            outs = [f"{node_name}_output_{i}" for i in range(outputs)]
        else:
            outs = list(outputs)
        self.nodes.append(helper.make_node(op_type, list(inputs), outs,
                                           name=node_name, **attrs))
        return outs[0] if len(outs) == 1 else outs

    def const(self, value, dtype=np.int64):
        """A Constant node (one per distinct value) holding `value`."""
        arr = np.asarray(value, dtype=dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            k = len(self._consts)
            name = f"/Constant_{k}" if k else "/Constant"
            out = f"{name}_output_0"
            self.nodes.append(helper.make_node(
                "Constant", [], [out], name=name,
                value=numpy_helper.from_array(arr)))
            self._consts[key] = out
        return self._consts[key]

    def fconst(self, value):
        return self.const(value, np.float32)

    # -- weights and interface -----------------------------------------------
    def weight(self, name, array):
        self.initializers.append(self.storage.add(name, array))
        return name

    def weight_chunks(self, name, shape, chunks):
        self.initializers.append(self.storage.add_chunks(name, shape, chunks))
        return name

    def weight_transpose_of(self, name, src_name):
        self.initializers.append(self.storage.add_transpose_of(name, src_name))
        return name

    def input(self, name, elem_type, shape):
        self.inputs.append(helper.make_tensor_value_info(name, elem_type,
                                                         shape))
        return name

    def output(self, value, name, elem_type, shape):
        """Declares graph output `name`; `value` must already be called
        `name` (pass outputs=[name] to op) or it is renamed via Identity."""
        if value != name:
            self.op("Identity", value, outputs=[name])
        self.outputs.append(helper.make_tensor_value_info(name, elem_type,
                                                          shape))
        return name

    def make_model(self, graph_name, opset, producer, metadata):
        graph = helper.make_graph(self.nodes, graph_name, self.inputs,
                                  self.outputs, self.initializers)
        model = helper.make_model(
            graph, producer_name=producer, producer_version="1",
            opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = ir_version_for(opset)
        for k, v in metadata:
            p = model.metadata_props.add()
            p.key = k
            p.value = v
        return model


def save_model(model, path):
    """Writes the model's protobuf (deterministic serialization)."""
    data = model.SerializeToString(deterministic=True)
    if len(data) >= 2 ** 31:
        raise ValueError(f"{path}: the model is {len(data)} bytes, over "
                         "protobuf's 2 GB limit; use external data")
    with open(path, "wb") as f:
        f.write(data)


def op_types(model):
    """Sorted distinct op types of the main graph."""
    return sorted({n.op_type for n in model.graph.node})
