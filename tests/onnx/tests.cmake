# ONNX executor and kernels: pure C on hand-built graphs, MPI-unaware, so one rank is enough.
# hessa_onnx_check: hand-built graphs and the derivative checker (onnx_check.h), for every ONNX kernel test.
add_library(hessa_onnx_check STATIC ${CMAKE_CURRENT_LIST_DIR}/onnx_check.c)
target_include_directories(hessa_onnx_check PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR}/src/objective)
target_compile_options(hessa_onnx_check PRIVATE ${HESSA_WARNINGS})
target_link_libraries(hessa_onnx_check PUBLIC hessa)

# hessa_add_onnx_test(name source.c): a one-rank test linked with the checker.
function(hessa_add_onnx_test name source)
  hessa_add_c_test(${name} ${source} RANKS 1 ${ARGN})
  target_link_libraries(${name} PRIVATE hessa_onnx_check)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/objective)
endfunction()

# The executor against the MLP objective (Gemm-Tanh-Gemm graphs), chunks and forward cache.
hessa_add_onnx_test(test_onnx_mlp ${CMAKE_CURRENT_LIST_DIR}/test_onnx_mlp.c)
# The linear kernels (Gemm, MatMul, Add, Sub, Mul, Div, broadcasting) by the derivative checker.
hessa_add_onnx_test(test_onnx_linear ${CMAKE_CURRENT_LIST_DIR}/test_onnx_linear.c)
# HessaONNXCreate on files written by onnx.helper (make_mlp_onnx.py): equal to the MLP, refusals,
# a CNN through every op family by the derivative checker.
hessa_add_onnx_test(test_onnx_create ${CMAKE_CURRENT_LIST_DIR}/test_onnx_create.c
                    ARGS ${CMAKE_CURRENT_LIST_DIR}/make_mlp_onnx.py ${CMAKE_CURRENT_BINARY_DIR}/onnx_create_mlp.onnx ${CMAKE_CURRENT_BINARY_DIR}/onnx_create_cnn.onnx)

# The pointwise and shape kernels on hand-built one-node graphs (closed forms, differences, adjoint identity).
hessa_add_c_test(test_onnx_ops ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops.c RANKS 1)
# The spatial ONNX kernels (Conv, BatchNormalization, pools) on hand-built nodes: naive
# loops, PyTorch float64 (spatial_reference.py) and central differences.
hessa_add_c_test(test_onnx_spatial ${CMAKE_CURRENT_LIST_DIR}/test_onnx_spatial.c RANKS 1)
target_include_directories(test_onnx_spatial PRIVATE ${CMAKE_SOURCE_DIR}/src/objective)
# The spatial kernels inside the executor: small CNNs by hand, by the derivative checker.
hessa_add_onnx_test(test_onnx_spatial_graph ${CMAKE_CURRENT_LIST_DIR}/test_onnx_spatial_graph.c)

# ONNX models and hessa hvp end to end (onnx_torch.py): PyTorch float64 models exported
# at test time with tools/onnx_export.py into the build folder, run through the real
# hessa commands at 1, 2 and 3 ranks, against PyTorch's double backward and numpy's
# eigvalsh, computed once per case by the fixture onnx_CASE_ref (reference.pkl in the build
# folder). The mlp case needs no ONNX (hessa hvp on the built-in MLP).
function(hessa_add_onnx_case case)
  cmake_parse_arguments(T "" "TIMEOUT" "RANKS" ${ARGN})
  if(NOT T_RANKS)
    set(T_RANKS 1 2 3)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # the fixture: the model, data and PyTorch's references, computed once for the rank runs
  add_test(NAME onnx_${case}_ref
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/onnx_torch.py ${MPIEXEC_EXECUTABLE} ref $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${case})
  set_tests_properties(onnx_${case}_ref PROPERTIES FIXTURES_SETUP onnx_${case}_ref TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;onnx")
  foreach(np ${T_RANKS})
    add_test(NAME onnx_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/onnx_torch.py ${MPIEXEC_EXECUTABLE} ${np} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${case})
    set_tests_properties(onnx_${case}_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;onnx"
                         FIXTURES_REQUIRED onnx_${case}_ref)
  endforeach()
endfunction()

hessa_add_onnx_case(mlp)
foreach(case dense mse checkpoint commands cnn resnet grouped gelu sigmoid spectrum layernorm layernorm13 softmax attention causal mha encoder)
  hessa_add_onnx_case(${case})
endforeach()
hessa_add_onnx_case(analyze TIMEOUT 600)
# Attention exported by a plain torch.onnx.export (the batch moved and merged with the heads:
# the loader's layout layer, src/objective/onnx_layout.c).
foreach(case plain_encoder plain_causal plain_seq_first)
  hessa_add_onnx_case(${case})
endforeach()
# token models around them (next-token targets, a padding mask, GD steps, spectra): 1 and 3
# ranks only, 13-28 s each
foreach(case token_tel token_seq_first)
  hessa_add_onnx_case(${case} RANKS 1 3)
endforeach()
# Token data (-hessa_data_source tokens): next-token with a padding mask (embeddings + MLP,
# full and per-block spectra), one class per sequence, and the tiny GPT (embeddings, a causal
# self-attention block with LayerNorm and a GELU MLP: per-block spectra of attention, MLP and
# embeddings by name patterns).
foreach(case token_mlp token_class)
  hessa_add_onnx_case(${case})
endforeach()
hessa_add_onnx_case(token_gpt TIMEOUT 600)
# A tiny vision transformer (strided-Conv patches, a class token expanded to the batch,
# nn.MultiheadAttention, a head on the class token): products, hessa check, the graph at
# opset 18 (Split by num_outputs), the full and per-block spectra.
hessa_add_onnx_case(vit TIMEOUT 600)

# The pointwise and shape ops inside real graphs (PyTorch exports and a hand-written one),
# through the loader and the executor: ops_models.py writes the models first (a fixture).
add_test(NAME onnx_ops_models COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/ops_models.py ${CMAKE_CURRENT_BINARY_DIR}/ops_models)
set_tests_properties(onnx_ops_models PROPERTIES FIXTURES_SETUP onnx_ops_models TIMEOUT 120 LABELS "onnx")
hessa_add_c_test(test_onnx_ops_graph ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops_graph.c RANKS 1 ARGS ${CMAKE_CURRENT_BINARY_DIR}/ops_models)
set_tests_properties(test_onnx_ops_graph_np1 PROPERTIES FIXTURES_REQUIRED onnx_ops_models)
# The pointwise and shape kernels in hand-built graphs by the derivative checker.
hessa_add_onnx_test(test_onnx_ops_check ${CMAKE_CURRENT_LIST_DIR}/test_onnx_ops_check.c)
# The normalisation kernels (LayerNormalization, reductions, Softmax, LogSoftmax, Pow, Sqrt, Exp,
# Log, Neg, Reciprocal) in hand-built graphs by the derivative checker, and their refusals.
hessa_add_onnx_test(test_onnx_norm_check ${CMAKE_CURRENT_LIST_DIR}/test_onnx_norm_check.c)
# The attention kernels (batched MatMul, Where, Slice, Split, Squeeze, Unsqueeze, Expand) in
# hand-built graphs by the derivative checker, and their refusals.
hessa_add_onnx_test(test_onnx_attention ${CMAKE_CURRENT_LIST_DIR}/test_onnx_attention.c)
# The layout layer (a batch moved by Transpose, merged with the heads or the sequence by
# Reshape: nn.MultiheadAttention's math path) in hand-built graphs by the derivative checker,
# the attention by loops, and its refusals.
hessa_add_onnx_test(test_onnx_layout ${CMAKE_CURRENT_LIST_DIR}/test_onnx_layout.c)
