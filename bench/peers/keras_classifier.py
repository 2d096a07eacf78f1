"""The authors' classifier training path in Keras, written from the paper's description (not from their code),
for `make bench-peers`. Runs in its own environment (.venv-peers: TensorFlow never enters the project's).

Faces are read from class folders by `ImageDataGenerator(rescale=1/255).flow_from_directory` (grayscale,
decoded from disk every epoch), the paper's CNN (Table 1: Conv32, Conv64, MaxPool, Dropout .25, Conv128,
MaxPool, Conv128, MaxPool, Dropout .25, Dense 1024, Dropout .5, Dense 6 softmax) trains with Adam 1e-4 on
categorical cross-entropy, `model.fit` as Keras runs it. One warm-up epoch (graph tracing) is not timed.

usage: python keras_classifier.py --images DIR --batch 16 --threads 2 --epochs 2 [--cpus 0,1]
Prints one JSON line: {"images_per_s": ..., "seconds": ..., "cpu_seconds": ..., "images": ..., "epochs": ...}
(cpu_seconds: the process's CPU time over the timed epochs, all its threads).
"""

from __future__ import annotations

import argparse
import json
import os
import time

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--images", required=True, help="a folder of class subfolders of image files")
parser.add_argument("--batch", type=int, default=16)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--image-size", type=int, default=64)
parser.add_argument("--cpus", default="", help="comma-separated CPU ids this process may run on")
args = parser.parse_args()
if args.cpus:
    os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402 - the affinity and log level are set first

tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(args.threads)
tf.keras.utils.set_random_seed(0)
layers = tf.keras.layers
size = args.image_size
model = tf.keras.Sequential(
    [
        tf.keras.Input((size, size, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Conv2D(128, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(128, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(6, activation="softmax"),
    ]
)
model.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="categorical_crossentropy", metrics=["accuracy"])
flow = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255).flow_from_directory(
    args.images,
    target_size=(size, size),
    color_mode="grayscale",
    batch_size=args.batch,
    class_mode="categorical",
    seed=0,
)
model.fit(flow, epochs=1, verbose=0)  # warm-up: tracing and the first allocations
start, cpu_start = time.perf_counter(), time.process_time()
model.fit(flow, epochs=args.epochs, verbose=0)
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
images = flow.samples * args.epochs
print(json.dumps({"images_per_s": images / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds, "images": images,
                  "epochs": args.epochs}))  # fmt: skip
