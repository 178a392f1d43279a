"""Machine-learning stage of sos-vo: the SoS-ML ensemble of multi-layer perceptrons (T25 Sect. 4-5).

Modules
-------
options    NetworkOptions and the paper's numbers (no TensorFlow)
scaling    input layout checks, input and label scalers (numpy)
network    the Keras model and its MAE -> SMAPE loss (imports Keras)
training   one network on one random split (imports Keras)
ensemble   n_members splits x one network per label; e_train, e_rep, e_ML (imports Keras)
inference  numpy-only forward pass of a whole ensemble (BN folded, networks stacked)
modelio    versioned model folders; load_model never imports TensorFlow

This package module imports nothing heavy, so ``import sos_vo.ml.modelio`` stays free of
TensorFlow.
"""
