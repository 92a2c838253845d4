"""``graphc.saving``: configs, model files, weights files and cloning.

=====================  ===============================================================
module                 what it holds
=====================  ===============================================================
registry               names a config may use; ``register_serializable``; ``Resolver``
values                 argument values <-> JSON (generic codec)
kinds                  typed fields of layer schemas
schemas                the config fields of every built-in layer (data)
layer_config           ``Layer.get_config`` / ``from_config``
traced_ir              Lambda / ``graphc.ops`` layers stored as IR and replayed
entries                layer entries of model configs, shared layers, save/rebuild contexts
functional             the Functional config (layers, nodes, references) and its rebuild
model_config           model configs, ``to_json``, ``model_from_json``, strict JSON
archive                zip reading with caps, atomic writes
npz                    ``.npz`` writing, and a strict ``.npy`` reader (no pickle, no eval)
weights_io             weights by path; ``save_weights`` / ``load_weights``
optimizer_state        optimizer state in model files (duck-typed hook)
model_file             the ``.graphc`` file: ``save_model`` / ``load_model``
cloning                ``clone_model``
=====================  ===============================================================

Loading never executes code from a file: no pickle, no eval/exec, and no
import of a name found in the file.  Classes resolve through graphc's own
tables, ``register_serializable`` and ``custom_objects`` only.
"""

from .archive import LoadLimits
from .cloning import clone_layer, clone_model
from .model_config import model_from_json
from .model_file import FORMAT_VERSION, load_model, save_model
from .registry import register_serializable, registered_name
from .values import deserialize, serialize
from .weights_io import load_weights, save_weights

__all__ = ["FORMAT_VERSION", "LoadLimits", "clone_layer", "clone_model", "deserialize",
           "load_model", "load_weights", "model_from_json", "register_serializable",
           "registered_name", "save_model", "save_weights", "serialize"]
