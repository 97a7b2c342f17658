"""Pure visualization methods: a Keras model and arrays in, numpy arrays out.

Each module computes one kind; none writes logs or changes the caller's model.
"""

from tb_netviz.methods.activations import layer_activations

__all__ = ["layer_activations"]
