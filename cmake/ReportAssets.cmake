# The HTML report's assets, embedded into a target at build time: Chart.js from Debian's
# libjs-chart.js package (never copied into the repository) and the page's own script and style
# (src/report/html/). The generated sources live in the build directory.
#
#   kvmscope_report_assets(ks_report)

# bookworm's libjs-chart.js 3.9 installs chart.min.js; Chart.js 4 packages name it chart.umd.js.
# A path given with -DKVMSCOPE_CHARTJS=... is used as is.
find_file(KVMSCOPE_CHARTJS
          NAMES chart.umd.min.js chart.umd.js chart.min.js
          PATHS /usr/share/javascript/chart.js /usr/share/nodejs/chart.js/dist
          NO_DEFAULT_PATH
          DOC "Chart.js UMD bundle to embed in HTML reports (Debian: libjs-chart.js)")
if(NOT KVMSCOPE_CHARTJS OR NOT EXISTS "${KVMSCOPE_CHARTJS}")
  message(FATAL_ERROR
          "Chart.js not found: the HTML report embeds it at build time. Install Debian's package "
          "(apt-get install libjs-chart.js, or run scripts/install-deps.sh), or point "
          "-DKVMSCOPE_CHARTJS=/path/to/chart.umd.js at a Chart.js 3 or 4 UMD bundle.")
endif()
message(STATUS "Chart.js for HTML reports: ${KVMSCOPE_CHARTJS}")

set(KVMSCOPE_EMBED_DIR ${CMAKE_BINARY_DIR}/generated/embedded)

# kvmscope_embed_file(<target> <input file> <C++ symbol> <INLINE_SCRIPT ON|OFF>)
function(kvmscope_embed_file target input symbol inline_script)
  set(output ${KVMSCOPE_EMBED_DIR}/${symbol}.cpp)
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${KVMSCOPE_EMBED_DIR}
    COMMAND ${CMAKE_COMMAND} -DIN=${input} -DOUT=${output} -DSYMBOL=${symbol}
            -DINLINE_SCRIPT=${inline_script} -P ${CMAKE_SOURCE_DIR}/cmake/EmbedFile.cmake
    DEPENDS ${input} ${CMAKE_SOURCE_DIR}/cmake/EmbedFile.cmake
    COMMENT "Embedding ${input}"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()

function(kvmscope_report_assets target)
  kvmscope_embed_file(${target} ${KVMSCOPE_CHARTJS} kChartJs ON)
  kvmscope_embed_file(${target} ${CMAKE_SOURCE_DIR}/src/report/html/report.js kReportJs ON)
  kvmscope_embed_file(${target} ${CMAKE_SOURCE_DIR}/src/report/html/report.css kReportCss OFF)
endfunction()
