# ONNX kernels: pure C, MPI-unaware, so one rank is enough.
# The pointwise and shape kernels on hand-built one-node graphs (closed forms, differences, adjoint identity).
hessa_add_c_test(test_onnx_ops ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops.c RANKS 1)

# The same ops inside real graphs (PyTorch exports and a hand-written one), through the
# loader and the executor: ops_models.py writes the models first (a fixture).
add_test(NAME onnx_ops_models COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/ops_models.py ${CMAKE_CURRENT_BINARY_DIR}/ops_models)
set_tests_properties(onnx_ops_models PROPERTIES FIXTURES_SETUP onnx_ops_models TIMEOUT 120 LABELS "onnx")
hessa_add_c_test(test_onnx_ops_graph ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops_graph.c RANKS 1 ARGS ${CMAKE_CURRENT_BINARY_DIR}/ops_models)
set_tests_properties(test_onnx_ops_graph_np1 PROPERTIES FIXTURES_REQUIRED onnx_ops_models)
