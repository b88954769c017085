# Warnings, sanitizers and CPU flags. Warnings go through an interface target that only hftx's own
# targets link, so a consumer's build never inherits them.
include_guard(GLOBAL)

add_library(hftx_warnings INTERFACE)
target_compile_options(hftx_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wcast-align -Wimplicit-fallthrough)
if(HFTX_WERROR)
  target_compile_options(hftx_warnings INTERFACE -Werror)
endif()
# Not exported, but install(EXPORT) needs every PRIVATE dependency of a static library in some export set.
if(HFTX_INSTALL)
  install(TARGETS hftx_warnings EXPORT hftxTargets)
endif()

if(HFTX_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=thread)
  add_compile_definitions(HFTX_SANITIZER=1 HFTX_TSAN=1)
elseif(HFTX_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(HFTX_SANITIZER=1 HFTX_ASAN=1)
elseif(NOT HFTX_SANITIZE STREQUAL "")
  message(FATAL_ERROR "HFTX_SANITIZE='${HFTX_SANITIZE}': expected '', 'thread' or 'address'")
endif()

if(HFTX_NATIVE)
  add_compile_options(-march=native)
endif()
