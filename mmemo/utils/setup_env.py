# Copyright (c) mmemo contributors. All rights reserved.
# Adapted from MMAction2 (Copyright (c) OpenMMLab, Apache-2.0).
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmemo into its registries.

    Importing :mod:`mmemo` already applies the compat shims; this imports
    every package that registers components. MMAction2's components need no
    call: ``mmaction.X`` look-ups import them on demand.

    Args:
        init_default_scope (bool): Whether to make ``mmemo`` the current
            default scope, so that plain type names resolve in mmemo's
            registries first. Defaults to True.
    """
    import mmemo.apis  # noqa: F401,F403
    import mmemo.datasets  # noqa: F401,F403
    import mmemo.engine  # noqa: F401,F403
    import mmemo.evaluation  # noqa: F401,F403
    import mmemo.models  # noqa: F401,F403
    import mmemo.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = DefaultScope.get_current_instance() is None \
        or not DefaultScope.check_instance_created('mmemo')
    if never_created:
        DefaultScope.get_instance('mmemo', scope_name='mmemo')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmemo':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmemo", '
                      '`register_all_modules` will force set the current '
                      'default scope to "mmemo". If this is not as '
                      'expected, please set `init_default_scope=False`.')
        # avoid name conflict
        new_instance_name = f'mmemo-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmemo')
