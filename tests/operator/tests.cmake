# Operator layer: sharded products against closed forms and unsharded sums (1, 2, 3 ranks).
hessa_add_c_test(test_operator ${CMAKE_CURRENT_LIST_DIR}/test_operator.c)

# hessa check on every objective: gradient and Hv against 4-point finite differences
# (relative error <= 1e-6) and symmetry (<= 1e-12); the command fails otherwise.
set(HESSA_CHECK_CASES
  "linear_toy|-hessa_model linear-toy -hessa_model_point 0.3,-0.7"
  "x2_plus_y4|-hessa_model x2+y4 -hessa_model_point 0.5,0.8"
  "x2_minus_y4|-hessa_model x2-y4 -hessa_model_point -0.4,0.6"
  "rosenbrock|-hessa_model rosenbrock -hessa_model_dim 7 -hessa_model_point -1.2,1,0.5,0.1,-0.3,0.9,1.1"
  "monkey_saddle|-hessa_model monkey-saddle -hessa_model_point 0.7,-0.2"
  "quadratic|-hessa_model quadratic -hessa_model_dim 300"
  "mlp_tanh_ce|-hessa_data_limit 400 -hessa_mlp_hidden 24,16 -hessa_mlp_activation tanh"
  "mlp_relu_mse|-hessa_data_limit 300 -hessa_mlp_hidden 20 -hessa_mlp_activation relu -hessa_data_source gaussian -hessa_data_dim 12 -hessa_data_targets 3 -hessa_mlp_loss mse -hessa_model_seed 5 -hessa_check_step 1e-6"
  "mlp_softplus_l2|-hessa_data_limit 300 -hessa_mlp_hidden 20,10 -hessa_mlp_activation softplus -hessa_mlp_weight_decay 0.01"
  "mlp_gelu|-hessa_data_limit 200 -hessa_mlp_hidden 16 -hessa_mlp_activation gelu"
  "mlp_sigmoid_subset|-hessa_data_limit 200 -hessa_mlp_hidden 16,8 -hessa_mlp_activation sigmoid -hessa_operator_subset layers.1"
  "mlp_ggn|-hessa_data_limit 200 -hessa_mlp_hidden 16 -hessa_operator ggn"
)
foreach(case ${HESSA_CHECK_CASES})
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 args)
  separate_arguments(args)
  hessa_add_mpi_test(NAME check_${name} COMMAND $<TARGET_FILE:hessa-cli> check ${args} -quiet)
endforeach()

# A weight folder written by PyTorch as docs/weights.md shows: hessa's loss and |g| at it
# equal PyTorch's to 1e-10.
foreach(np 1 2 3)
  add_test(NAME torch_weights_np${np}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/torch_weights.py ${MPIEXEC_EXECUTABLE} ${np} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(torch_weights_np${np} PROPERTIES PROCESSORS ${np} TIMEOUT 180 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;torch")
endforeach()
