# ONNX kernels: pure C, MPI-unaware, so one rank is enough.
# The pointwise and shape kernels on hand-built one-node graphs (closed forms, differences, adjoint identity).
hessa_add_c_test(test_onnx_ops ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops.c RANKS 1)
