# hessa train end to end (train_cases.py): real data, exact optimiser steps against
# closed forms and torch.optim, gradnorm to the worked examples of background.md,
# stop/resume bitwise, bad input. The fmnist_* cases run 1 and 3 ranks themselves.
set(HESSA_TRAIN_CASES_PY ${CMAKE_CURRENT_LIST_DIR}/train_cases.py)
function(hessa_add_train_case case)
  cmake_parse_arguments(T "" "PROCESSORS" "RANKS" ${ARGN})
  foreach(np ${T_RANKS})
    add_test(NAME train_${case}_np${np}
             COMMAND ${HESSA_PYTHON} ${HESSA_TRAIN_CASES_PY} ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${np} ${case})
    set(procs ${np})
    if(T_PROCESSORS)
      set(procs ${T_PROCESSORS})
    endif()
    set_tests_properties(train_${case}_np${np} PROPERTIES PROCESSORS ${procs} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;train")
  endforeach()
endfunction()

foreach(method gd sgd adam)
  hessa_add_train_case(fmnist_${method} RANKS 3)
endforeach()
foreach(case torch_sgd_batches quadratic_gd quadratic_sgd quadratic_adam gradnorm_saddle gradnorm_valley newton_quadratic lm_quadratic newton_toy lm_toy resume signal bad_method bad_lr bad_resume)
  hessa_add_train_case(${case} RANKS 1 2 3)
endforeach()
# decoupled weight decay (-hessa_train_weight_decay): AdamW, gd and SGDW, resume, bad values
foreach(case torch_adamw_batches quadratic_adamw quadratic_gdw quadratic_sgdw resume_adamw)
  hessa_add_train_case(${case} RANKS 1 3)
endforeach()
foreach(case bad_weight_decay_negative bad_weight_decay_nan bad_weight_decay_lr bad_weight_decay_newton bad_resume_weight_decay)
  hessa_add_train_case(${case} RANKS 1 2 3)
endforeach()
