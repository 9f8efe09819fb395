"""One place that turns ``distribution=`` into a scope for the active backend.

``distribution`` may be

* ``None``: no distribution;
* ``"auto"``: data parallelism when more than one accelerator is visible,
  nothing otherwise;
* ``"data_parallel"`` (alias ``"mirrored"``): every visible GPU (or, on a
  CPU-only machine split into several logical devices, those devices);
  ``tf.distribute.MirroredStrategy`` on TensorFlow,
  ``keras.distribution.DataParallel`` on JAX;
* ``"model_parallel"`` (JAX): ``keras.distribution.ModelParallel`` on a
  one-axis "model" mesh over every device, sharding the last axis of each
  weight that divides evenly;
* ``"tpu"``: ``tf.distribute.TPUStrategy`` on TensorFlow, ``DataParallel``
  over the TPU cores on JAX;
* a ``tf.distribute.Strategy`` (TensorFlow) or a
  ``keras.distribution.Distribution`` (JAX);
* a zero-argument callable returning one of these, called at fit time.

Live strategy objects hold threads and device handles: they do not pickle or
deep-copy. :func:`portable` turns one into a :class:`DistributionSpec`
(kind + devices) that does, and :func:`resolve` accepts it back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from typing import Any

import keras
import numpy as np

from kerasbig.parameters import InvalidParameterError

_ALIASES = {"mirrored": "data_parallel"}
# The public distributions; keras.distribution does not export their base class.
_KERAS_DISTRIBUTIONS = (
    keras.distribution.DataParallel,
    keras.distribution.ModelParallel,
)
_NAMES = ("auto", "data_parallel", "mirrored", "model_parallel", "tpu")


@dataclasses.dataclass(frozen=True)
class DistributionSpec:
    """A picklable description of a distribution: its kind and devices.

    Parameters
    ----------
    kind : str
        ``"data_parallel"``, ``"model_parallel"`` or ``"tpu"``.
    devices : tuple of str, optional
        Device names; all suitable devices when empty.
    """

    kind: str
    devices: tuple[str, ...] = ()


@dataclasses.dataclass
class Placement:
    """A resolved distribution: the backend object and what it demands of data.

    ``replicas`` is the number that every batch size must divide. ``share``
    is ``(index, count)``: in a multi-process JAX job this process feeds the
    ``index``-th of ``count`` equal, consecutive parts of every batch; on one
    process ``(0, 1)``, the whole batch.
    """

    backend_object: Any
    replicas: int
    kind: str  # "tf.distribute" or "keras.distribution"
    share: tuple[int, int] = (0, 1)
    is_multi_process: bool = False  # a JAX job of several processes (hosts)

    def scope(self):
        """The context in which to build, compile, fit and predict."""
        return self.backend_object.scope()

    @property
    def is_tf_strategy(self) -> bool:
        return self.kind == "tf.distribute"


def _backend() -> str:
    return keras.backend.backend()


def _tf():
    import tensorflow as tf  # noqa: PLC0415 - only when TF distribution is used

    return tf


def _is_tf_strategy(obj) -> bool:
    try:
        tf = _tf()
    except ImportError:
        return False
    return isinstance(obj, tf.distribute.Strategy)


def _is_keras_distribution(obj) -> bool:
    return isinstance(obj, _KERAS_DISTRIBUTIONS)


def is_live(obj) -> bool:
    """True for a strategy or distribution object (which does not pickle)."""
    return _is_tf_strategy(obj) or _is_keras_distribution(obj)


def _accelerators() -> list:
    """Visible GPUs/TPUs for the active backend."""
    if _backend() == "jax":
        import jax  # noqa: PLC0415

        return [d for d in jax.devices() if d.platform != "cpu"]
    if _backend() == "tensorflow":
        tf = _tf()
        return tf.config.list_logical_devices("GPU") + tf.config.list_logical_devices(
            "TPU"
        )
    return []


def _tf_data_parallel_devices() -> list[str]:
    tf = _tf()
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return [d.name for d in gpus]
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def _wrong_backend(spec, needs: str):
    return ValueError(
        f"distribution={spec!r} needs the {needs} backend, but Keras runs on "
        f"{_backend()!r}. "
        + (
            "tf.distribute strategies apply only to TensorFlow; on JAX use "
            "'data_parallel', 'model_parallel' or a keras.distribution object."
            if needs == "tensorflow"
            else "keras.distribution is implemented only for JAX in Keras 3 (its "
            "TensorFlow version silently does nothing); on TensorFlow use "
            "'data_parallel' or a tf.distribute strategy. Set KERAS_BACKEND=jax."
        )
    )


class ShardDivisibleWeights(keras.distribution.ModelParallel):
    """ModelParallel that shards the last axis of every weight it divides.

    The default layout of ``distribution="model_parallel"``: on a mesh with a
    ``"model"`` axis of size n, each weight of two or more axes whose last
    axis divides by n is split across the devices along that axis; the rest
    is replicated. Weights listed in ``layout_map`` keep their given layout.
    """

    def get_variable_layout(self, variable):
        layout = super().get_variable_layout(variable)
        if any(axis is not None for axis in layout.axes):
            return layout
        mesh = self.device_mesh
        n = mesh.shape[mesh.axis_names.index("model")]
        shape = tuple(variable.shape)
        if len(shape) >= 2 and shape[-1] % n == 0:
            axes = (*([None] * (len(shape) - 1)), "model")
            return keras.distribution.TensorLayout(axes, mesh)
        return layout


def _jax_devices(spec: DistributionSpec) -> list[str]:
    if spec.devices:
        return list(spec.devices)
    if spec.kind == "tpu":
        try:
            devices = keras.distribution.list_devices("tpu")
        except RuntimeError as err:  # JAX: "Backend 'tpu' failed to initialize"
            raise ValueError(
                f"distribution='tpu' but JAX finds no TPU: {err}"
            ) from None
        if not devices:
            raise ValueError("distribution='tpu' but JAX finds no TPU device.")
        return devices
    return keras.distribution.list_devices()


def _from_spec(spec: DistributionSpec) -> Placement | None:
    backend = _backend()
    if spec.kind not in ("data_parallel", "model_parallel", "tpu"):
        raise ValueError(
            f"DistributionSpec kind {spec.kind!r} is unknown; expected "
            "'data_parallel', 'model_parallel' or 'tpu'."
        )
    if backend == "tensorflow":
        tf = _tf()
        if spec.kind == "model_parallel":
            raise _wrong_backend("model_parallel", "jax")
        if spec.kind == "tpu":
            try:
                resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
                tf.config.experimental_connect_to_cluster(resolver)
                tf.tpu.experimental.initialize_tpu_system(resolver)
            except Exception as err:  # noqa: BLE001 - TF raises several kinds
                raise ValueError(
                    f"distribution='tpu' but TensorFlow finds no TPU: {err}"
                ) from None
            return _placement(tf.distribute.TPUStrategy(resolver))
        devices = list(spec.devices) or _tf_data_parallel_devices()
        cross_device_ops = None
        if all("GPU" not in d.upper() for d in devices):
            # On CPU devices TF picks collective all-reduce, whose instance
            # keys clash between strategy objects in one process (a later
            # model fails with "Shape mismatch in the collective instance").
            cross_device_ops = tf.distribute.ReductionToOneDevice()
        return _placement(
            tf.distribute.MirroredStrategy(devices, cross_device_ops=cross_device_ops)
        )
    if backend == "jax":
        devices = _jax_devices(spec)
        if spec.kind == "model_parallel":
            mesh = keras.distribution.DeviceMesh(
                shape=(1, len(devices)), axis_names=("batch", "model"), devices=devices
            )
            return _placement(
                ShardDivisibleWeights(
                    layout_map=keras.distribution.LayoutMap(mesh),
                    batch_dim_name="batch",
                    auto_shard_dataset=False,
                )
            )
        # auto_shard_dataset=False: kerasbig feeds NumPy arrays, which Keras
        # refuses to shard across processes (it wants a tf.data.Dataset);
        # kerasbig gives each process its share of every batch itself.
        return _placement(
            keras.distribution.DataParallel(devices=devices, auto_shard_dataset=False)
        )
    raise ValueError(
        f"distribution={spec!r} is not supported on the {backend!r} backend; "
        "use TensorFlow or JAX."
    )


def _placement(obj) -> Placement:
    if _is_tf_strategy(obj):
        if _backend() != "tensorflow":
            raise _wrong_backend(type(obj).__name__, "tensorflow")
        return Placement(obj, int(obj.num_replicas_in_sync), "tf.distribute")
    if _is_keras_distribution(obj):
        if _backend() != "jax":
            raise _wrong_backend(type(obj).__name__, "jax")
        mesh = obj.device_mesh
        replicas = mesh.shape[mesh.axis_names.index(obj.batch_dim_name)]
        import jax  # noqa: PLC0415 - keras.distribution is JAX-only

        multi_process = jax.process_count() > 1
        share = _process_share(obj) if multi_process else (0, 1)
        if share[1] > 1 and obj.auto_shard_dataset:
            raise ValueError(
                "A multi-process keras.distribution with auto_shard_dataset=True "
                "needs a tf.data.Dataset; kerasbig feeds NumPy arrays and splits "
                "them across processes itself. Create the distribution with "
                "auto_shard_dataset=False, or pass distribution='data_parallel'."
            )
        return Placement(obj, int(replicas), "keras.distribution", share, multi_process)
    raise TypeError(
        f"distribution resolved to {obj!r}; expected a tf.distribute.Strategy or "
        "a keras.distribution.Distribution."
    )


def _process_share(distribution) -> tuple[int, int]:
    """``(index, count)``: the consecutive part of each batch this process feeds.

    Along the mesh's batch axis, each process must own one block of equal,
    consecutive positions (``DataParallel`` over ``jax.devices()``, whose
    devices come grouped by process), or every position (the batch axis is
    not split across processes: every process feeds the whole batch).
    """
    import jax  # noqa: PLC0415 - keras.distribution is JAX-only

    mesh = distribution.device_mesh
    axis = mesh.axis_names.index(distribution.batch_dim_name)
    devices = np.moveaxis(np.asarray(mesh.backend_mesh.devices), axis, 0)
    owners = [
        {d.process_index for d in np.ravel(at_position)} for at_position in devices
    ]
    mine = [i for i, procs in enumerate(owners) if jax.process_index() in procs]
    if len(mine) == len(owners):
        return 0, 1
    size = len(mine)
    start = mine[0]
    if (
        mine != list(range(start, start + size))
        or len(owners) % size
        or start % size
        or any(len(procs) != 1 for procs in owners)
    ):
        raise ValueError(
            "This multi-process mesh splits the batch axis across processes in "
            f"a way kerasbig cannot feed (positions by process: {owners}); "
            "order the devices by process (as jax.devices() does)."
        )
    return start // size, len(owners) // size


def rows_for_process(n_rows: int, batch_size: int, share: tuple[int, int]):
    """Indices of the rows this process feeds, and its per-process batch size.

    Batch k of ``batch_size`` rows (the last may be shorter; every size must
    divide by the count) is split into ``count`` consecutive parts and this
    process takes part ``index``: Keras then assembles each global batch from
    the processes' parts, in process order, so the multi-process run trains
    on the same batches as a single process would.
    """
    index, count = share
    if count == 1:
        return np.arange(n_rows), batch_size
    parts = []
    for start in range(0, n_rows, batch_size):
        size = min(batch_size, n_rows - start)
        part = size // count
        parts.append(np.arange(start + index * part, start + (index + 1) * part))
    return np.concatenate(parts), batch_size // count


EXPECTED = (
    f"None, one of {list(_NAMES)}, a tf.distribute.Strategy, a "
    "keras.distribution.Distribution or a callable returning one"
)


def is_valid(spec) -> bool:
    """False for a ``distribution`` value that can never be valid (cheap)."""
    if spec is None or isinstance(spec, DistributionSpec) or is_live(spec):
        return True
    if isinstance(spec, str):
        return spec in _NAMES
    return callable(spec)


def resolve(spec) -> Placement | None:
    """Turn a ``distribution`` value into a :class:`Placement` (or None)."""
    if not is_valid(spec):
        raise InvalidParameterError(
            f"distribution={spec!r} is invalid; expected {EXPECTED}."
        )
    if spec is None:
        return None
    if is_live(spec):
        return _placement(spec)
    if isinstance(spec, DistributionSpec):
        return _from_spec(spec)
    if isinstance(spec, str):
        name = _ALIASES.get(spec, spec)
        if name == "auto":
            if len(_accelerators()) < 2:
                return None
            name = "data_parallel"
        return _from_spec(DistributionSpec(name))
    made = spec()
    if not is_live(made):
        raise TypeError(
            f"The distribution factory {spec!r} returned {made!r}; expected a "
            "tf.distribute.Strategy or a keras.distribution.Distribution."
        )
    return resolve(made)


def clone_sharing_live(estimator, clone):
    """``clone()`` of ``estimator``, sharing its live strategy object if any.

    A ``tf.distribute.Strategy`` or ``keras.distribution.Distribution``
    cannot be deep-copied; like ``n_jobs``, it names resources, so the clone
    uses the same object.
    """
    live = estimator.distribution
    if not is_live(live):
        return clone()
    estimator.distribution = None
    try:
        twin = clone()
    finally:
        estimator.distribution = live
    twin.distribution = live
    return twin


def picklable_state(state: dict) -> dict:
    """An estimator's pickled state: a live strategy as its spec, no placement."""
    state = dict(state)
    state.pop("_placement", None)
    if "distribution" in state:
        state["distribution"] = portable(state["distribution"])
    return state


def portable(spec):
    """A picklable stand-in for a live strategy/distribution; others unchanged."""
    if _is_tf_strategy(spec):
        tf = _tf()
        if isinstance(spec, tf.distribute.TPUStrategy):
            return DistributionSpec("tpu")
        devices = tuple(getattr(spec.extended, "worker_devices", ()))
        short = sorted(d.split("device:")[-1] for d in devices)
        if short == sorted(d.split("device:")[-1] for d in _tf_data_parallel_devices()):
            devices = ()  # "every suitable device" wherever it is unpickled
        return DistributionSpec("data_parallel", devices)
    if _is_keras_distribution(spec):
        devices = tuple(str(d) for d in np.ravel(spec.device_mesh.devices))
        if sorted(devices) == sorted(keras.distribution.list_devices()):
            devices = ()
        kind = (
            "model_parallel"
            if isinstance(spec, keras.distribution.ModelParallel)
            else "data_parallel"
        )
        if kind == "model_parallel" and not isinstance(spec, ShardDivisibleWeights):
            warnings.warn(
                "A ModelParallel distribution is pickled as the default "
                "'model_parallel' layout over the same devices; its custom "
                "LayoutMap is not kept.",
                UserWarning,
                stacklevel=3,
            )
        return DistributionSpec(kind, devices)
    return spec


def placed(placement: Placement | None) -> contextlib.AbstractContextManager:
    """The placement's scope, or a context that does nothing without one."""
    return contextlib.nullcontext() if placement is None else placement.scope()


# ----------------------------------------------------------------------
# Making batches fit the replicas
# ----------------------------------------------------------------------
def round_batch_size(batch_size: int | None, replicas: int) -> int:
    """The batch size rounded up to a multiple of ``replicas``."""
    size = 32 if batch_size is None else batch_size
    rounded = -(-size // replicas) * replicas
    if batch_size is not None and rounded != batch_size:
        warnings.warn(
            f"batch_size={batch_size} is rounded up to {rounded}, a multiple of "
            f"the {replicas} replicas.",
            UserWarning,
            stacklevel=4,
        )
    return rounded


def pad_rows(n_rows: int, multiple: int) -> np.ndarray:
    """Row indices that repeat rows cyclically up to a multiple of ``multiple``."""
    target = -(-n_rows // multiple) * multiple
    return np.arange(target) % n_rows


def pad_for_training(X, y, sample_weight, replicas: int):
    """Pad ``X, y`` to a multiple of ``replicas`` with zero-weight copies.

    The added rows carry sample weight 0, so with a loss averaged by the
    weights (kerasbig's default) they change nothing.
    """
    n = X.shape[0]
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    index = pad_rows(n, replicas)
    if len(index) == n:
        return X, y, sample_weight
    weights = np.concatenate([weights, np.zeros(len(index) - n)])
    return X[index], y[index], weights


def compile_kwargs_for(placement: Placement | None, compile_kwargs: dict) -> dict:
    """Drop compile options that break under a tf.distribute strategy."""
    if placement is None or not placement.is_tf_strategy:
        return compile_kwargs
    out = dict(compile_kwargs)
    if out.get("jit_compile") is True:
        warnings.warn(
            "jit_compile=True fails under tf.distribute.MirroredStrategy "
            "(keras#19005); compiling without XLA.",
            UserWarning,
            stacklevel=4,
        )
        out["jit_compile"] = False
    steps = out.get("steps_per_execution", 1)
    if isinstance(steps, int) and steps > 1:
        warnings.warn(
            f"steps_per_execution={steps} fails under tf.distribute strategies "
            "(keras#19246); using 1.",
            UserWarning,
            stacklevel=4,
        )
        out["steps_per_execution"] = 1
    return out


# ----------------------------------------------------------------------
# What the estimator calls: training data and predictions under a placement
# ----------------------------------------------------------------------
def prepare_fit(X, y, sample_weight, fit_args: dict, placement: Placement | None):
    """``X, y, sample_weight, fit_args`` as ``keras.Model.fit`` needs them here.

    Without a placement they come back unchanged. Under one, batch sizes are
    rounded up to a multiple of the replicas and the data are padded with
    zero-weight copies of rows so that every batch splits evenly. Keras'
    ``validation_split`` (the last rows) is done here, before padding, so that
    padded rows never become validation data. In a multi-process job each
    process then keeps its share of every batch.
    """
    if placement is None:
        return X, y, sample_weight, fit_args
    fit_args = dict(fit_args)
    replicas, share = placement.replicas, placement.share
    for name in ("batch_size", "validation_batch_size"):
        if fit_args.get(name) is not None or name == "batch_size":
            fit_args[name] = round_batch_size(fit_args.get(name), replicas)
    split = fit_args.pop("validation_split", 0.0) or 0.0
    if split:
        cut = int(np.ceil(X.shape[0] * (1.0 - split)))
        weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        Xv, yv, wv = pad_for_training(X[cut:], y[cut:], weights[cut:], replicas)
        val_batch = fit_args.get("validation_batch_size") or fit_args["batch_size"]
        rows, val_batch = rows_for_process(Xv.shape[0], val_batch, share)
        fit_args["validation_data"] = (Xv[rows], yv[rows], wv[rows])
        if fit_args.get("validation_batch_size") is not None or share[1] > 1:
            fit_args["validation_batch_size"] = val_batch
        X, y = X[:cut], y[:cut]
        sample_weight = None if sample_weight is None else sample_weight[:cut]
    X, y, sample_weight = pad_for_training(X, y, sample_weight, replicas)
    rows, fit_args["batch_size"] = rows_for_process(
        X.shape[0], fit_args["batch_size"], share
    )
    if len(rows) == X.shape[0]:
        return X, y, sample_weight, fit_args
    weights = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    return X[rows], y[rows], weights[rows], fit_args


def predict(model, X, predict_args: dict, placement: Placement | None) -> np.ndarray:
    """``model.predict(X)`` inside the placement, one output row per row of ``X``.

    Under a placement the rows are padded (cyclically) to a multiple of the
    replicas and the batch size rounded up, then the padding is cut off. In a
    multi-process JAX job Keras cannot fetch outputs that span other
    processes' devices, so each process predicts the rows it is given on its
    own, outside the distribution.
    """
    if placement is not None and placement.is_multi_process:
        placement = None
    n_rows = keras.tree.flatten(X)[0].shape[0]
    if placement is not None:
        X = X[pad_rows(n_rows, placement.replicas)]
        predict_args = {
            **predict_args,
            "batch_size": round_batch_size(
                predict_args.get("batch_size"), placement.replicas
            ),
        }
    with placed(placement):
        out = model.predict(x=X, **predict_args)
    return keras.tree.map_structure(lambda a: np.asarray(a)[:n_rows], out)


def agree_on_replica_state(model, placement: Placement | None) -> None:
    """Give every replica of a ``tf.distribute`` model the same variables.

    Keras updates a non-trainable variable (BatchNormalization's moving mean
    and variance) on each replica from that replica's share of the batch, so
    after a fit the replicas hold different statistics: a row's prediction
    would depend on which replica computed it, and would differ from the
    pickled copy and from a single-device network holding ``get_weights()``
    (which reads the first replica). After each fit the floating-point ones
    are set, on every replica, to their mean over the replicas (the statistic
    of the whole batch, as one device would keep it), the others to the first
    replica's value. ``keras.distribution`` (JAX) keeps one value per variable
    and needs nothing.
    """
    if placement is None or not placement.is_tf_strategy:
        return
    with placement.scope():
        for variable in model.non_trainable_variables:
            copies = getattr(variable.value, "values", None)
            if copies is None or len(copies) < 2:
                continue
            values = [np.asarray(copy) for copy in copies]
            if all(np.array_equal(values[0], other) for other in values[1:]):
                continue
            if np.issubdtype(values[0].dtype, np.floating):
                agreed = np.mean(values, axis=0, dtype=np.float64)
            else:
                agreed = values[0]
            variable.assign(agreed.astype(values[0].dtype))
