# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2 (Copyright (c) OpenMMLab, Apache-2.0).
"""mmemo's registry nodes, siblings of mmaction's (as mmyolo does).

Every node is a child of MMEngine's root registry with scope ``mmemo``.
Configs with ``default_scope = 'mmemo'`` find mmemo's components by their
plain names and MMAction2's with an ``mmaction.`` prefix
(``type='mmaction.ResNet3dSlowOnly'``) or inside a ``_scope_='mmaction'``
sub-tree; other packages reach ours as ``mmemo.X``.

More details: https://mmengine.readthedocs.io/en/latest/advanced_tutorials/
registry.html
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# Each node imports these packages before a lookup, so a config needs no
# `custom_imports` to find mmemo's components.
_ENGINE = ['mmemo.engine']
_DATASETS = ['mmemo.datasets']
_TRANSFORMS = ['mmemo.datasets.transforms']
_MODELS = ['mmemo.models']
_EVALUATION = ['mmemo.evaluation']
_VISUALIZATION = ['mmemo.visualization']

# manage all kinds of runners like `EpochBasedRunner` and `IterBasedRunner`
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='mmemo', locations=_ENGINE)
# manage runner constructors that define how to initialize runners
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    scope='mmemo',
    locations=_ENGINE)
# manage all kinds of loops like `EpochBasedTrainLoop`
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='mmemo', locations=_ENGINE)
# manage all kinds of hooks like `CheckpointHook`
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmemo', locations=_ENGINE)
# manage log processors
LOG_PROCESSORS = Registry(
    'log processor',
    parent=MMENGINE_LOG_PROCESSORS,
    scope='mmemo',
    locations=_ENGINE)

# manage data-related modules
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, scope='mmemo', locations=_DATASETS)
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    scope='mmemo',
    locations=_DATASETS)
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope='mmemo',
    locations=_TRANSFORMS)

# manage all kinds of modules inheriting `nn.Module`
MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmemo', locations=_MODELS)
# manage all kinds of model wrappers like 'MMDistributedDataParallel'
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    scope='mmemo',
    locations=_MODELS)
# manage all kinds of weight initialization modules like `Uniform`
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='mmemo',
    locations=_MODELS)

# manage all kinds of optimizers like `SGD` and `Adam`
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, scope='mmemo', locations=_ENGINE)
# manage optimizer wrappers
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmemo',
    locations=_ENGINE)
# manage constructors that customize the optimization hyperparameters.
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='mmemo',
    locations=_ENGINE)
# manage all kinds of parameter schedulers like `MultiStepLR`
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    scope='mmemo',
    locations=_ENGINE)

# manage all kinds of metrics
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, scope='mmemo', locations=_EVALUATION)
# manage evaluators
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    scope='mmemo',
    locations=_EVALUATION)

# manage task-specific modules like anchor generators and box coders
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, scope='mmemo', locations=_MODELS)

# manage visualizer
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope='mmemo',
    locations=_VISUALIZATION)
# manage visualizer backend
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    scope='mmemo',
    locations=_VISUALIZATION)

# manage functions
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, scope='mmemo', locations=_DATASETS)

# manage inferencers
INFERENCERS = Registry(
    'inferencer',
    parent=MMENGINE_INFERENCERS,
    scope='mmemo',
    locations=['mmemo.apis'])
