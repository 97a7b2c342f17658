"""Packaging for tb_netviz: the Python package plus the frontend shipped inside it."""

from setuptools import find_packages, setup

setup(
    name="tb_netviz",
    version="0.3.0",
    description="TensorBoard plugin: activations, feature visualization, deconvnet and "
    "guided backprop of Keras models while they train.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=[
        *find_packages(include=["tb_netviz", "tb_netviz.*"]),
        "tb_netviz.frontend",
    ],
    # The browser code lives at the top-level frontend/ folder and ships as
    # tb_netviz/frontend inside the wheel.
    package_dir={"tb_netviz.frontend": "frontend"},
    package_data={"tb_netviz.frontend": ["*.js", "*.css", "views/*.js", "shared/*.js"]},
    install_requires=[
        "tensorflow>=2.16",
        "tensorboard>=2.16",
        "numpy",
        "werkzeug",
    ],
    extras_require={
        "test": [
            "pytest",
            "hypothesis",
            "playwright",
            "setuptools>=64",
            "wheel",
        ],
    },
    entry_points={
        "tensorboard_plugins": ["netviz = tb_netviz.plugin:NetVizLoader"],
        "console_scripts": ["tb-netviz = tb_netviz.cli:main"],
    },
)
