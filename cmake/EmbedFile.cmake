# Script mode: turns a text file into a C++ source defining it as a NUL-terminated char array,
# so the HTML report carries Chart.js and its own script and style with no file to find at run
# time. Run at build time by kvmscope_embed_file (cmake/ReportAssets.cmake):
#   cmake -DIN=<file> -DOUT=<file.cpp> -DSYMBOL=<name> -DINLINE_SCRIPT=ON|OFF -P EmbedFile.cmake
# INLINE_SCRIPT: the text goes inside an HTML <script> element, where "</script" would end the
# element early and "<!--" would change how the browser parses the rest: refuse both.
if(NOT IN OR NOT OUT OR NOT SYMBOL)
  message(FATAL_ERROR "EmbedFile.cmake needs -DIN, -DOUT and -DSYMBOL")
endif()
if(INLINE_SCRIPT)
  file(READ "${IN}" text)
  string(TOLOWER "${text}" lower)
  foreach(bad "</script" "<!--")
    string(FIND "${lower}" "${bad}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${IN} contains \"${bad}\" at offset ${at}: it cannot be inlined in "
                          "an HTML <script> element")
    endif()
  endforeach()
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}"
     "// Generated at build time by cmake/EmbedFile.cmake from ${IN}: do not edit.\n"
     "#include <cstddef>\n"
     "namespace kvmscope::report::embedded {\n"
     "extern const char ${SYMBOL}[];\n"
     "extern const std::size_t ${SYMBOL}Size;\n"
     "const char ${SYMBOL}[] = {${bytes}0x00};\n"
     "const std::size_t ${SYMBOL}Size = ${size};\n"
     "}  // namespace kvmscope::report::embedded\n")
