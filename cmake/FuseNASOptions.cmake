# Warning and sanitizer settings, applied per target through fusenas_target_defaults().
add_library(fusenas_warnings INTERFACE)
# GCC 12 reports a false -Wstringop-overflow inside fmt 9's fmt::join parser at -O3.
target_compile_options(fusenas_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-stringop-overflow>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)

# Line tables in every CUDA build (no effect on the generated code), so compute-sanitizer and
# profilers name the .cu line of a fault or a race.
add_library(fusenas_cuda_lineinfo INTERFACE)
target_compile_options(fusenas_cuda_lineinfo INTERFACE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)

add_library(fusenas_sanitize INTERFACE)
if(FUSENAS_SANITIZE)
  target_compile_options(fusenas_sanitize INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined>)
  target_link_options(fusenas_sanitize INTERFACE -fsanitize=address,undefined)
  # Code may compile fewer specialisations of one body (the same logic) when sanitized.
  target_compile_definitions(fusenas_sanitize INTERFACE FUSENAS_SANITIZED=1)
endif()

# Private build settings every FuseNAS target gets (never exported to consumers).
function(fusenas_target_defaults target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:fusenas_warnings>
                                          $<BUILD_INTERFACE:fusenas_sanitize>
                                          $<BUILD_INTERFACE:fusenas_cuda_lineinfo>)
endfunction()
