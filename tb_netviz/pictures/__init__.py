"""Records of each kind as pictures: numpy only, one module per kind.

Each module turns a method's arrays into the whole record of one step,
`(info, images)`: the step's JSON-able dict and a list of uint8 images
`(H, W)` or `(H, W, C)` for the writer. `layout.py` holds the grid contract
that every kind shares.
"""
