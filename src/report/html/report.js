// The kvmscope HTML report's charts. Embedded into the page at build time (after Chart.js),
// it reads the report's JSON document (schema kvmscope.report/1) from #kvmscope-data and draws:
// exit rates over time stacked per reason, handling-time distributions per reason (CDFs from
// each exit's own handling time), and one bar chart per drill-down table. When every chart has drawn, it
// writes data-state="ok" into #kvmscope-status (or "error" with the messages), which the
// browser test reads back from the rendered DOM; the element is hidden from the reader.
(function () {
  'use strict';

  const errors = window.__kvmscopeErrors || (window.__kvmscopeErrors = []);
  const expected = [];  // canvas ids of the charts made
  const painted = {};   // canvas id -> pixels drawn, once rendered

  // Tableau 10 and a few more: distinct on white and when stacked.
  const palette = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948',
                   '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac', '#86bcb6', '#d37295'];
  const kTopSeries = 10;   // the rest of a level's reasons share one "other" series
  const kTopHistograms = 8;
  const kTopDrillRows = 20;

  function report() {
    const status = document.getElementById('kvmscope-status');
    if (!status) return;
    const drawn = expected.filter((id) => painted[id] > 0);
    const state = errors.length ? 'error' : drawn.length === expected.length ? 'ok' : 'pending';
    status.dataset.state = state;
    status.dataset.charts = String(expected.length);
    status.dataset.rendered = String(drawn.length);
    status.textContent = 'charts drawn: ' + drawn.length + ' of ' + expected.length +
        (errors.length ? '; errors: ' + errors.join(' | ') : '') + '; ' +
        expected.map((id) => id + '=' + (painted[id] || 0) + 'px').join(', ');
  }

  // Chart.js plugin: after a chart's first render, count the canvas pixels it painted.
  const marker = {
    id: 'kvmscopeMarker',
    afterRender(chart) {
      const canvas = chart.canvas;
      if (painted[canvas.id] > 0) return;
      const pixels = chart.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < pixels.length; i += 4) {
        if (pixels[i] !== 0) n++;
      }
      painted[canvas.id] = n;
      report();
    },
  };

  function fmtNs(ns) {
    if (ns < 1e3) return ns.toFixed(0) + ' ns';
    if (ns < 1e6) return +(ns / 1e3).toPrecision(3) + ' us';
    if (ns < 1e9) return +(ns / 1e6).toPrecision(3) + ' ms';
    return +(ns / 1e9).toPrecision(3) + ' s';
  }

  function reasonLabel(r) {
    return r.reason + ' (' + r.code_text + ')';
  }

  function levelTitle(level) {
    return level === 'hardware' ? 'Hardware exits' : 'Exits to the VMM';
  }

  // A figure with a caption and a canvas in the container; returns the canvas.
  function addCanvas(containerId, id, caption, height) {
    const container = document.getElementById(containerId);
    if (!container) throw new Error('no element #' + containerId);
    const figure = document.createElement('figure');
    const figcaption = document.createElement('figcaption');
    figcaption.textContent = caption;
    const box = document.createElement('div');
    box.className = 'chart';
    box.style.height = height + 'px';
    const canvas = document.createElement('canvas');
    canvas.id = id;
    box.appendChild(canvas);
    figure.appendChild(figcaption);
    figure.appendChild(box);
    container.appendChild(figure);
    expected.push(id);
    return canvas;
  }

  function makeChart(canvas, config) {
    config.plugins = (config.plugins || []).concat([marker]);
    config.options = Object.assign({animation: false, responsive: true,
                                    maintainAspectRatio: false}, config.options || {});
    return new Chart(canvas, config);
  }

  // Exit rates over time, one stacked bar per bucket, one series per frequent reason.
  function timelineChart(data, level) {
    const t = data.timeline;
    const series = t.series.filter((s) => s.level === level).sort((a, b) => b.total - a.total);
    stackedRates(t, series, reasonLabel, 'reasons', 'charts-timeline', 'chart-timeline-' + level,
                 levelTitle(level));
  }

  // The hardware exits over time again, coloured by the guest function that exited.
  function functionTimelineChart(code) {
    const t = code.timeline;
    if (!t) return;
    const series = t.series.slice().sort((a, b) => (a.function === 'other') - (b.function === 'other') ||
                                                   b.total - a.total);
    stackedRates(t, series, (s) => s.function, 'functions', 'charts-guest-code',
                 'chart-guest-timeline', 'Hardware exits by guest function');
  }

  // One stacked bar per bucket, one series per label (the kTopSeries largest, the rest as one).
  function stackedRates(t, series, label, restWord, containerId, id, title) {
    if (!series.length || !t.buckets) return;
    const bucketS = Number(t.bucket_s);
    const decimals = bucketS >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(bucketS)));
    const labels = [];
    for (let b = 0; b < t.buckets; b++) labels.push((b * bucketS).toFixed(decimals));
    const datasets = series.slice(0, kTopSeries).map((s, i) => ({
      label: label(s),
      data: s.counts.map((c) => c / bucketS),
      backgroundColor: palette[i % palette.length],
    }));
    const rest = series.slice(kTopSeries);
    if (rest.length) {
      const other = new Array(t.buckets).fill(0);
      for (const s of rest) s.counts.forEach((c, b) => { other[b] += c / bucketS; });
      datasets.push({label: rest.length + ' other ' + restWord, data: other,
                     backgroundColor: '#cccccc'});
    }
    const canvas = addCanvas(containerId, id, title + ' per second, buckets of ' +
                             fmtNs(bucketS * 1e9), 380);
    makeChart(canvas, {
      type: 'bar',
      data: {labels: labels, datasets: datasets},
      options: {
        datasets: {bar: {barPercentage: 1, categoryPercentage: 1, borderWidth: 0}},
        interaction: {mode: 'index', intersect: false},
        scales: {
          x: {stacked: true, title: {display: true, text: 'seconds since the start'}},
          y: {stacked: true, beginAtZero: true, title: {display: true, text: 'exits/s'}},
        },
        plugins: {legend: {position: 'right'}},
      },
    });
  }

  // Handling-time distribution per reason, as a CDF: the share of the reason's timed exits
  // handled within a time. From the report's handling_time quantiles (each exit's own time,
  // exact or within 1 %), on a log time axis; 0 ns points are drawn at 1 ns.
  function cdfChart(data, level) {
    const h = data.handling_time;
    const reasons = h.series.filter((s) => s.level === level && s.timed)
        .sort((a, b) => b.timed - a.timed).slice(0, kTopHistograms);
    if (!reasons.length) return;
    const datasets = reasons.map((r, k) => ({
      label: reasonLabel(r),
      data: r.ns.map((ns, i) => ({x: Math.max(ns, 1), y: 100 * h.q[i]})),
      borderColor: palette[k % palette.length],
      backgroundColor: palette[k % palette.length],
      showLine: true,
      stepped: 'after',
      pointRadius: 0,
      borderWidth: 2,
    }));
    const canvas = addCanvas('charts-histograms', 'chart-histogram-' + level,
                             levelTitle(level) + ': handling time (CDF)', 340);
    makeChart(canvas, {
      type: 'scatter',
      data: {datasets: datasets},
      options: {
        scales: {
          x: {type: 'logarithmic', title: {display: true, text: 'handling time (log scale)'},
              // Labels at 1, 2 and 5 x 10^k only: a log axis has a tick at every integer.
              ticks: {callback: (v) => {
                const m = Number(v) / Math.pow(10, Math.floor(Math.log10(Number(v))));
                return [1, 2, 5].some((x) => Math.abs(m - x) < 1e-6) ? fmtNs(Number(v)) : '';
              }}},
          y: {min: 0, max: 100,
              title: {display: true, text: '% of its timed exits (cumulative)'}},
        },
        plugins: {
          legend: {position: 'right'},
          tooltip: {callbacks: {label: (item) => item.dataset.label + ': ' +
                                fmtNs(item.parsed.x) + ' at ' + item.parsed.y.toFixed(1) + '%'}},
        },
      },
    });
  }

  // One horizontal bar chart per drill-down table: the most frequent keys.
  function drillChart(table, index) {
    const rows = table.rows.slice(0, kTopDrillRows);
    if (!rows.length) return;
    const caption = {port: 'Port I/O', mmio: 'MMIO', msr: 'MSR accesses', cpuid: 'CPUID leaves',
                     hypercall: 'Hypercalls'}[table.kind] || table.kind;
    const canvas = addCanvas('charts-drilldowns', 'chart-drill-' + table.kind + '-' + index,
                             caption + (table.vm_pid !== null ? ', VM ' + table.vm_pid : '') +
                             ': most frequent', 60 + 22 * rows.length);
    makeChart(canvas, {
      type: 'bar',
      data: {
        labels: rows.map((r) => r.value_text + (r.detail ? ' ' + r.detail : '')),
        datasets: [{label: 'count', data: rows.map((r) => r.count),
                    backgroundColor: palette[index % palette.length]}],
      },
      options: {
        indexAxis: 'y',
        scales: {x: {beginAtZero: true, title: {display: true, text: 'count'}}},
        plugins: {
          legend: {display: false},
          tooltip: {callbacks: {afterLabel: (item) => {
            const r = rows[item.dataIndex];
            return r.timed ? 'avg ' + fmtNs(r.avg_ns) + ' per exit' : 'not timed';
          }}},
        },
      },
    });
  }

  // Guest code (report --guest-symbols): per VM and reason, the functions that exited most.
  function guestCodeCharts(code) {
    code.vms.forEach((vm) => vm.reasons.forEach((r, i) => {
      const rows = r.functions.slice(0, kTopDrillRows);
      if (!rows.length) return;
      const canvas = addCanvas('charts-guest-code', 'chart-guest-' + vm.pid + '-' + i,
                               reasonLabel(r) + ', VM ' + vm.pid + ': guest functions',
                               60 + 22 * rows.length);
      makeChart(canvas, {
        type: 'bar',
        data: {
          labels: rows.map((f) => f.function + (f.module ? ' [' + f.module + ']' : '')),
          datasets: [{label: 'exits', data: rows.map((f) => f.count),
                      backgroundColor: palette[i % palette.length]}],
        },
        options: {
          indexAxis: 'y',
          scales: {x: {beginAtZero: true, title: {display: true, text: 'exits'}}},
          plugins: {
            legend: {display: false},
            tooltip: {callbacks: {afterLabel: (item) => {
              const f = rows[item.dataIndex];
              const where = f.sites.length ? 'at ' + f.sites[0].where : '';
              return (f.timed ? 'avg ' + fmtNs(f.avg_ns) + ' per exit; ' : '') + where;
            }}},
          },
        },
      });
    }));
  }

  function guarded(what, f) {
    try {
      f();
    } catch (e) {
      errors.push(what + ': ' + (e && e.message ? e.message : String(e)));
    }
  }

  function main() {
    if (typeof Chart === 'undefined') throw new Error('Chart.js did not load');
    const data = JSON.parse(document.getElementById('kvmscope-data').textContent);
    for (const level of ['hardware', 'vmm']) {
      guarded('timeline ' + level, () => timelineChart(data, level));
      guarded('handling time ' + level, () => cdfChart(data, level));
    }
    data.drilldowns.forEach((t, i) => guarded('drill-down ' + t.kind, () => drillChart(t, i)));
    if (data.guest_code) {
      guarded('guest code timeline', () => functionTimelineChart(data.guest_code));
      guarded('guest code', () => guestCodeCharts(data.guest_code));
    }
  }

  guarded('report', main);
  report();
  // Errors raised later (a chart's resize) still count.
  window.addEventListener('error', report);
  window.addEventListener('load', report);
})();
