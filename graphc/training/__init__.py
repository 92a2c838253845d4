"""graphc.training -- gradients over Python code, losses, optimizers, metrics, and fit.

=================  ==============================================================
module             what it holds
=================  ==============================================================
staging            StagedTracer / StagedProgram: traced code -> one Func with
                   parameter sources -> compiled, stateful program (the core)
gradients          symbolic_gradient: the autodiff transform inside a trace
tape               GradientTape (custom training loops)
function           graphc.function, graphc.grad, graphc.value_and_grad
losses             graphc.losses
metrics            graphc.metrics
optimizers         graphc.optimizers (SGD, Adam, AdamW, RMSprop), schedules
variables          Variable (optimizer state), swap_in
train_step         build_train_step / build_eval_step: one Func per step
compile_config     what model.compile records; per-output specs
data               matching, checking and batching x / y
trainer            the fit / evaluate / train_on_batch loops
callbacks          graphc.callbacks (History, EarlyStopping, ModelCheckpoint ...)
progress           the per-epoch progress display
debug              locate_nonfinite: the first op that produced a NaN / inf
model_api          TrainingMixin: Model.compile / fit / evaluate ...
=================  ==============================================================
"""

from . import callbacks, losses, metrics, optimizers, schedules
from .data import epoch_order
from .debug import locate_nonfinite
from .function import StagedFunction, function, grad, value_and_grad
from .staging import StagedProgram, StagedTensor, StagedTracer
from .tape import GradientTape
from .train_step import TrainStep, build_eval_step, build_train_step
from .trainer import NonFiniteLossError
from .variables import Variable

__all__ = [
    "GradientTape", "NonFiniteLossError", "StagedFunction", "StagedProgram", "StagedTensor",
    "StagedTracer", "TrainStep", "Variable", "build_eval_step", "build_train_step", "callbacks",
    "epoch_order", "function", "grad", "locate_nonfinite", "losses", "metrics", "optimizers",
    "schedules", "value_and_grad",
]
