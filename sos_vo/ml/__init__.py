"""Machine-learning stage of sos-vo: the SoS-ML ensemble of multi-layer perceptrons (T25 Sect. 4-5).

Modules
-------
options    NetworkOptions and the paper's numbers (no TensorFlow)
scaling    input layout checks, input and label scalers (numpy)
network    the Keras model and its MAE -> SMAPE loss (imports Keras)
training   one network on one random split (Keras imported only to build or train one)
ensemble   n_members splits x one network per label; e_train, e_rep, e_ML (Keras: idem)
fused      all networks of an ensemble trained together: the rules both engines share
numpy_training  the numpy engine of fused training (never imports Keras or TensorFlow)
fused_tensorflow  the TensorFlow engine of fused training (imports Keras and TensorFlow)
checkpoint resumable training, member by member or in fused units (Keras: idem)
inference  numpy-only forward pass of a whole ensemble (BN folded, networks stacked)
modelio    versioned model folders; load_model never imports TensorFlow

This package module imports nothing heavy, so ``import sos_vo.ml.modelio`` stays free of
TensorFlow, and so does a training with the numpy engine.
"""
