"""onnxruntime session for the models these tools write (the interface of
graphs.py: input_ids, position_ids, past_key_values.* -> logits, present.*)."""

import numpy as np


class OrtModel:
    def __init__(self, path, threads=1):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(path, opts,
                                         providers=["CPUExecutionProvider"])
        self.past_names = [i.name for i in self.sess.get_inputs()
                           if i.name.startswith("past_key_values.")]
        shape = self.sess.get_inputs()[2].shape
        self.n_kv, self.head_dim = shape[1], shape[3]

    def empty_past(self):
        z = np.zeros((1, self.n_kv, 0, self.head_dim), np.float32)
        return {n: z for n in self.past_names}

    def run(self, ids, start, past):
        """Logits [S, vocab] of `ids` at positions start.. and the new past."""
        feeds = {"input_ids": np.asarray([ids], np.int64),
                 "position_ids": np.arange(start, start + len(ids),
                                           dtype=np.int64)[None, :]}
        feeds.update(past)
        outs = self.sess.run(None, feeds)
        names = [o.name for o in self.sess.get_outputs()]
        res = dict(zip(names, outs))
        new_past = {n: res[n.replace("past_key_values.", "present.")]
                    for n in self.past_names}
        return res["logits"][0], new_past

    def forward(self, ids):
        """Logits [S, vocab] of a fresh window (positions 0.., no past), as
        reference.Model.forward."""
        return self.run(list(ids), 0, self.empty_past())[0]
