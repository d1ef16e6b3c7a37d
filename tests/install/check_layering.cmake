# Checks what each part's static library asks the linker for (nm -u): the solver (ode) and the
# rest of the core reference no cairo, zlib or (outside nn) oneDNN symbol, so a program or binding
# that links neuralode::core or neuralode::ode does not drag them in. The CMake targets enforce
# which parts a part may link; this checks the object code agrees. Run with -DBUILD_DIR=... -DNM=...
set(forbidden
  "common:cairo_|dnnl|gzopen|gzread|inflate|deflate"
  "ode:cairo_|dnnl|gzopen|gzread|inflate|deflate"
  "nn:cairo_|gzopen|gzread|inflate|deflate"
  "grad:cairo_|dnnl|gzopen|gzread|inflate|deflate"
  "models:cairo_|dnnl|gzopen|gzread|inflate|deflate"
  "train:cairo_|dnnl")
foreach(entry IN LISTS forbidden)
  string(REPLACE ":" ";" pair "${entry}")
  list(GET pair 0 part)
  list(GET pair 1 pattern)
  set(lib ${BUILD_DIR}/libneuralode_${part}.a)
  if(NOT EXISTS ${lib})
    message(FATAL_ERROR "${lib} not found")
  endif()
  execute_process(COMMAND ${NM} -u -C ${lib} OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on ${lib}")
  endif()
  string(REGEX MATCHALL "[^\n]*(${pattern})[^\n]*" hits "${undefined}")
  if(hits)
    list(GET hits 0 first)
    list(LENGTH hits n)
    message(FATAL_ERROR "libneuralode_${part}.a references ${n} symbol(s) it must not (${pattern}), e.g. ${first}")
  endif()
  message(STATUS "libneuralode_${part}.a: none of ${pattern}")
endforeach()
