"""tb_netviz: see a Keras network's insides in TensorBoard while it trains.

`NetVizCallback` and the kinds' specs (`Ascent`, `Deconv`, `Exemplars`, ...:
each group of `metadata.GROUPS`, capitalized) are imported lazily:
TensorBoard imports this package to load the plugin entry point, and that
must not pull in TensorFlow.
"""

from tb_netviz import metadata

__version__ = "0.3.0"
__all__ = ["NetVizCallback", *(group.capitalize() for group in metadata.GROUPS)]


def __getattr__(name: str):
    if name == "NetVizCallback":
        from tb_netviz.callback import NetVizCallback

        return NetVizCallback
    if name in __all__:
        from tb_netviz import loggers

        return getattr(loggers, name)
    raise AttributeError(f"module 'tb_netviz' has no attribute {name!r}")
