# Copyright (c) mmemo contributors. All rights reserved.
"""Print the environment: versions of the stack and mmemo's compat shims."""
from mmemo.utils import collect_env


def main():
    for name, val in collect_env().items():
        print(f'{name}: {val}')


if __name__ == '__main__':
    main()
