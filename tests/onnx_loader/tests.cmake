# The ONNX loader apart from the kernels: models written by make_models.py (onnx.helper)
# at test time into the build folder, a mock op table. The loader is MPI-unaware: 1 rank.
hessa_add_c_test(test_onnx_load ${CMAKE_CURRENT_LIST_DIR}/test_onnx_load.c RANKS 1 LABELS onnx
                 ARGS ${CMAKE_CURRENT_LIST_DIR}/make_models.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_load_models)
# ONNX node conformance: every single-node case of Debian's libonnx-testdata whose op hessa
# supports, loaded with its inputs and run forward, against its output at float32 tolerance.
# The list of cases (ran / skipped with the reason) goes to onnx_node_cases.txt.
set(HESSA_ONNX_NODE_DIR /usr/include/onnx/backend/test/data/node)
if(EXISTS ${HESSA_ONNX_NODE_DIR})
  hessa_add_c_test(test_onnx_nodes ${CMAKE_CURRENT_LIST_DIR}/test_onnx_nodes.c RANKS 1 LABELS onnx
                   ARGS ${HESSA_ONNX_NODE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/onnx_node_cases.txt)
  target_include_directories(test_onnx_nodes PRIVATE ${HESSA_PROTO_DIR})
  target_link_libraries(test_onnx_nodes PRIVATE PkgConfig::PROTOBUFC)
  target_compile_options(test_onnx_nodes PRIVATE -Wno-format-truncation) # paths and reasons are cut, not overrun
else()
  message(STATUS "${HESSA_ONNX_NODE_DIR} not found: no ONNX node conformance test (scripts/setup.sh installs libonnx-testdata)")
endif()
