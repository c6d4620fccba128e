# Compiles src/bpf/*.bpf.c with clang for the BPF target and turns the object into a libbpf
# skeleton header with bpftool. Both are build products and never enter the source tree.
find_program(KVMSCOPE_CLANG NAMES clang clang-14 REQUIRED)
find_program(KVMSCOPE_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

if(KVMSCOPE_STATIC)
  # libbpf.a needs libelf and zlib; Debian's libelf.a also pulls in zstd.
  set(KVMSCOPE_LIBBPF_LIBS libbpf.a libelf.a libz.a libzstd.a)
else()
  pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
  set(KVMSCOPE_LIBBPF_LIBS PkgConfig::LIBBPF)
endif()

set(KVMSCOPE_SKEL_DIR ${CMAKE_BINARY_DIR}/skel)
file(MAKE_DIRECTORY ${KVMSCOPE_SKEL_DIR})
execute_process(COMMAND uname -m OUTPUT_VARIABLE KVMSCOPE_ARCH OUTPUT_STRIP_TRAILING_WHITESPACE)
if(KVMSCOPE_ARCH STREQUAL "x86_64")
  set(KVMSCOPE_BPF_ARCH x86)
elseif(KVMSCOPE_ARCH STREQUAL "aarch64")
  set(KVMSCOPE_BPF_ARCH arm64)
else()
  set(KVMSCOPE_BPF_ARCH ${KVMSCOPE_ARCH})
endif()

function(kvmscope_bpf_skeleton name source)
  set(obj ${KVMSCOPE_SKEL_DIR}/${name}.bpf.o)
  set(skel ${KVMSCOPE_SKEL_DIR}/${name}.skel.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${KVMSCOPE_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${KVMSCOPE_BPF_ARCH}
            -I${CMAKE_SOURCE_DIR}/src -I/usr/include/${KVMSCOPE_ARCH}-linux-gnu
            -Wall -Werror -c ${source} -o ${obj}
    DEPENDS ${source} ${CMAKE_SOURCE_DIR}/src/bpf/kvmscope_bpf.h
            ${CMAKE_SOURCE_DIR}/src/bpf/kvm_vcpu.bpf.h
    COMMENT "BPF ${name}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${KVMSCOPE_BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel DEPENDS ${skel})
endfunction()
