# ONNX kernels: pure C, MPI-unaware, so one rank is enough.
# The pointwise and shape kernels on hand-built one-node graphs (closed forms, differences, adjoint identity).
hessa_add_c_test(test_onnx_ops ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops.c RANKS 1)
# The spatial ONNX kernels (Conv, BatchNormalization, pools) on hand-built nodes: naive
# loops, PyTorch float64 (spatial_reference.py) and central differences. MPI-unaware: one rank.
hessa_add_c_test(test_onnx_spatial ${CMAKE_CURRENT_LIST_DIR}/test_onnx_spatial.c RANKS 1)
target_include_directories(test_onnx_spatial PRIVATE ${CMAKE_SOURCE_DIR}/src/objective)
