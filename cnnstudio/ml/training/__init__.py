"""The trainer's parts: the data feed, the optimisation step, the evaluation and the run writer.

:func:`cnnstudio.ml.trainer.train` wires them into the generator of events; each part is small and
can be replaced on its own (a sharded feed for several processes, a writer only on rank 0).
"""
