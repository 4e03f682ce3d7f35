# The ONNX loader apart from the kernels: models written by make_models.py (onnx.helper)
# at test time into the build folder, a mock op table. The loader is MPI-unaware: 1 rank.
hessa_add_c_test(test_onnx_load ${CMAKE_CURRENT_LIST_DIR}/test_onnx_load.c RANKS 1 LABELS onnx
                 ARGS ${CMAKE_CURRENT_LIST_DIR}/make_models.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_load_models)
