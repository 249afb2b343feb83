# Copyright (c) mmemo contributors. All rights reserved.
from .mtcnn import MTCNNFaceDetector, resolve_mtcnn_weights

__all__ = ['MTCNNFaceDetector', 'resolve_mtcnn_weights']
