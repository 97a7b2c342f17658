"""tb_netviz: see a Keras network's insides in TensorBoard while it trains.

`NetVizCallback` is imported lazily: TensorBoard imports this package to load
the plugin entry point, and that must not pull in TensorFlow.
"""

__version__ = "0.2.0"
__all__ = ["NetVizCallback"]


def __getattr__(name: str):
    if name == "NetVizCallback":
        from tb_netviz.callback import NetVizCallback

        return NetVizCallback
    raise AttributeError(f"module 'tb_netviz' has no attribute {name!r}")
