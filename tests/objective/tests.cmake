# Objective layer: pure C, MPI-unaware, so one rank is enough.
hessa_add_c_test(test_analytic ${CMAKE_CURRENT_LIST_DIR}/test_analytic.c RANKS 1)
hessa_add_c_test(test_mlp_fd ${CMAKE_CURRENT_LIST_DIR}/test_mlp_fd.c RANKS 1)
hessa_add_c_test(test_mlp_setup ${CMAKE_CURRENT_LIST_DIR}/test_mlp_setup.c RANKS 1)
# Independent answer from PyTorch (float64, double backward); needs /usr/bin/python3 with torch.
hessa_add_c_test(test_mlp_torch ${CMAKE_CURRENT_LIST_DIR}/test_mlp_torch.c RANKS 1 TIMEOUT 300
                 ARGS ${CMAKE_CURRENT_LIST_DIR}/torch_reference.py)
# docs/weights.schema.json and HessaWeightsValidateManifest agree (python3-jsonschema).
add_executable(manifest_verdict ${CMAKE_CURRENT_LIST_DIR}/manifest_verdict.c)
target_link_libraries(manifest_verdict PRIVATE hessa)
target_compile_options(manifest_verdict PRIVATE ${HESSA_WARNINGS})
add_test(NAME manifest_schema
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/manifest_schema.py ${CMAKE_SOURCE_DIR}/docs/weights.schema.json
                 $<TARGET_FILE:manifest_verdict> ${CMAKE_SOURCE_DIR}/fuzz/corpus/fuzz_weights_json ${CMAKE_CURRENT_BINARY_DIR}/manifest_schema)
set_tests_properties(manifest_schema PROPERTIES TIMEOUT 60 LABELS objective)
