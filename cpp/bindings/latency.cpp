// Latency histograms and the stage tracker: hftx.LatencyHistogram, hftx.LatencyTracker.
// NumPy in and out; arrays are converted first, then the GIL is released around the C++ loops.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <sstream>
#include <tuple>

#include "hftx/core/error.hpp"
#include "hftx/latency/histogram.hpp"
#include "hftx/latency/tracker.hpp"
#include "register.hpp"

namespace hftx::py {
namespace {

using I64Array = pyb::array_t<std::int64_t, pyb::array::c_style | pyb::array::forcecast>;
using F64Array = pyb::array_t<double, pyb::array::c_style | pyb::array::forcecast>;

template <class T>
pyb::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  pyb::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return pyb::array_t<T>(static_cast<pyb::ssize_t>(heap->size()), heap->data(), owner);
}

std::size_t record_array(Histogram& h, const I64Array& values) {
  if (values.ndim() != 1) throw pyb::value_error("record_array: expected a 1-D array of int64 nanoseconds");
  const std::int64_t* p = values.data();
  const auto n = static_cast<std::size_t>(values.size());
  std::size_t overflowed = 0;
  {
    pyb::gil_scoped_release release;
    for (std::size_t i = 0; i < n; ++i) overflowed += h.record(p[i]) ? 0 : 1;
  }
  return overflowed;
}

void register_latency_log(pyb::module_& m);

}  // namespace

void register_latency(pyb::module_& m) {
  pyb::class_<Histogram>(m, "LatencyHistogram",
                         "HdrHistogram-compatible log-linear histogram of integer values (nanoseconds by convention).")
      .def(pyb::init<std::int64_t, std::int64_t, int>(), pyb::arg("lowest") = Histogram::kDefaultLowest,
           pyb::arg("highest") = Histogram::kDefaultHighest, pyb::arg("significant_digits") = Histogram::kDefaultDigits)
      .def("record", &Histogram::record, pyb::arg("value"),
           "Records one value; False (and counted in overflow_count) when above `highest` or negative.")
      .def(
          "record_n", [](Histogram& h, std::int64_t v, std::uint64_t n) { return h.record_n(v, n); }, pyb::arg("value"),
          pyb::arg("count"))
      .def("record_array", &record_array, pyb::arg("values"),
           "Records every value of a 1-D integer array (GIL released); returns how many overflowed.")
      .def("record_corrected", &Histogram::record_corrected, pyb::arg("value"), pyb::arg("expected_interval"),
           pyb::arg("count") = 1, "Records with HdrHistogram's coordinated-omission correction.")
      .def("merge", &Histogram::merge, pyb::arg("other"))
      .def("reset", &Histogram::reset)
      .def("copy", &Histogram::snapshot)
      .def_property_readonly("count", &Histogram::count)
      .def_property_readonly("overflow_count", &Histogram::overflow_count)
      .def_property_readonly("min", &Histogram::min)
      .def_property_readonly("max", &Histogram::max)
      .def_property_readonly("mean", &Histogram::mean)
      .def_property_readonly("stddev", &Histogram::stddev)
      .def_property_readonly("lowest", &Histogram::lowest_trackable)
      .def_property_readonly("highest", &Histogram::highest_trackable)
      .def_property_readonly("significant_digits", &Histogram::significant_digits)
      .def_property_readonly("bucket_count", &Histogram::bucket_count)
      .def_property_readonly("sub_bucket_count", &Histogram::sub_bucket_count)
      .def_property_readonly("memory_bytes", &Histogram::memory_bytes)
      .def("value_at_percentile", &Histogram::value_at_percentile, pyb::arg("percentile"))
      .def(
          "percentiles",
          [](const Histogram& h, const F64Array& ps) {
            std::vector<std::int64_t> out;
            {
              pyb::gil_scoped_release release;
              out = h.values_at_percentiles(std::span<const double>(ps.data(), static_cast<std::size_t>(ps.size())));
            }
            return to_numpy(std::move(out));
          },
          pyb::arg("percentiles"), "Values at several percentiles (0..100) in one pass, as an int64 array.")
      .def(
          "percentile_table",
          [](const Histogram& h, int ticks) {
            std::vector<PercentileRow> rows = h.percentile_table(ticks);
            std::vector<double> p;
            std::vector<std::int64_t> v;
            std::vector<std::uint64_t> c;
            for (const auto& r : rows) {
              p.push_back(r.percentile);
              v.push_back(r.value);
              c.push_back(r.cumulative_count);
            }
            return pyb::make_tuple(to_numpy(std::move(p)), to_numpy(std::move(v)), to_numpy(std::move(c)));
          },
          pyb::arg("ticks_per_half_distance") = 5, "(percentiles, values, cumulative counts) as in the .hgrm table.")
      .def(
          "buckets",
          [](const Histogram& h) {
            std::vector<std::int64_t> lo, hi;
            std::vector<std::uint64_t> c;
            h.for_each_recorded([&](const HistogramBucket& b) {
              lo.push_back(b.lowest);
              hi.push_back(b.highest);
              c.push_back(b.count);
            });
            return pyb::make_tuple(to_numpy(std::move(lo)), to_numpy(std::move(hi)), to_numpy(std::move(c)));
          },
          "(lowest, highest, count) of every non-empty bucket, as NumPy arrays.")
      .def(
          "counts",
          [](const Histogram& h) {
            std::vector<std::uint64_t> c;
            h.copy_counts(c);
            return to_numpy(std::move(c));
          },
          "The raw counts array (HdrHistogram's index layout), as a uint64 NumPy array.")
      .def(
          "cumulative_counts",
          [](const Histogram& h, const I64Array& bounds) {
            return to_numpy(h.cumulative_counts(
                std::span<const std::int64_t>(bounds.data(), static_cast<std::size_t>(bounds.size()))));
          },
          pyb::arg("bounds"), "Values recorded at or below each ascending bound (Prometheus `le` buckets).")
      .def("lowest_equivalent_value", &Histogram::lowest_equivalent_value, pyb::arg("value"))
      .def("highest_equivalent_value", &Histogram::highest_equivalent_value, pyb::arg("value"))
      .def("percentile_distribution", &Histogram::percentile_distribution, pyb::arg("value_scale") = 1.0,
           pyb::arg("ticks_per_half_distance") = 5, "HdrHistogram's .hgrm percentile distribution text.")
      .def("encode", &Histogram::encode, "HdrHistogram V2 compressed, base64 ('HISTFAAA...').")
      .def_static("decode", &Histogram::decode, pyb::arg("encoded"))
      .def("__len__", [](const Histogram& h) { return h.count(); })
      .def("__repr__", [](const Histogram& h) {
        return "LatencyHistogram(count=" + std::to_string(h.count()) + ", p50=" + std::to_string(h.value_at_percentile(50)) +
               ", p99=" + std::to_string(h.value_at_percentile(99)) + ", max=" + std::to_string(h.max()) + ")";
      });

  pyb::class_<LatencyTracker>(m, "LatencyTracker", "Per-stage latency histograms (per thread, merged on read) and traces.")
      .def(pyb::init([](bool enable_tracking, std::size_t max_traces, double sample_rate) {
             LatencyConfig c;
             c.enable_tracking = enable_tracking;
             c.max_traces = max_traces;
             c.sample_rate = sample_rate;
             return std::make_unique<LatencyTracker>(c);
           }),
           pyb::arg("enable_tracking") = true, pyb::arg("max_traces") = 10'000, pyb::arg("sample_rate") = 0.01)
      .def_property_readonly_static("stages", [](const pyb::object&) {
        std::vector<std::string> names(kStageNames.begin(), kStageNames.end());
        return names;
      })
      .def(
          "record",
          [](LatencyTracker& t, std::string_view stage, std::int64_t ns) { t.local().record(stage_from_string(stage), ns); },
          pyb::arg("stage"), pyb::arg("ns"), "Records a latency for `stage` on the calling thread's recorder.")
      .def(
          "record_array",
          [](LatencyTracker& t, std::string_view stage, const I64Array& values) {
            const Stage s = stage_from_string(stage);
            LatencyTracker::Recorder& r = t.local();
            const std::int64_t* p = values.data();
            const auto n = static_cast<std::size_t>(values.size());
            pyb::gil_scoped_release release;
            for (std::size_t i = 0; i < n; ++i) r.record(s, p[i]);
          },
          pyb::arg("stage"), pyb::arg("values"))
      .def(
          "stage_histogram",
          [](const LatencyTracker& t, std::string_view stage) { return t.stage_histogram(stage_from_string(stage)); },
          pyb::arg("stage"), "Every thread's histogram of `stage`, merged (a copy).")
      .def_property_readonly("events", &LatencyTracker::events)
      .def_property_readonly("thread_count", &LatencyTracker::thread_count)
      .def_property_readonly("enabled", &LatencyTracker::enabled)
      .def(
          "record_event",
          [](LatencyTracker& t, std::uint64_t begin_ticks, const std::vector<std::uint64_t>& stage_end_ticks) {
            if (stage_end_ticks.size() > kPathStages)
              throw ConfigError("record_event: " + std::to_string(stage_end_ticks.size()) +
                                " stage stamps, expected at most " + std::to_string(kPathStages) +
                                " (receive..send); 0 skips a stage");
            LatencyTracker::Recorder& r = t.local();
            r.begin(begin_ticks);
            for (std::size_t i = 0; i < stage_end_ticks.size(); ++i)
              if (stage_end_ticks[i] != 0) r.stamp(static_cast<Stage>(i), stage_end_ticks[i]);
            r.end();
          },
          pyb::arg("begin_ticks"), pyb::arg("stage_end_ticks"),
          "One event from raw clock ticks (hftx._core.clock_ticks()): begin, each stage's end (0 = skipped), end.")
      .def("trace_count", [](const LatencyTracker& t) { return t.traces().size(); })
      .def("chrome_trace_json", &LatencyTracker::chrome_trace_json, pyb::call_guard<pyb::gil_scoped_release>());
  register_latency_log(m);
}

namespace {
void register_latency_log(pyb::module_& m) {
  m.def(
      "hlog_text",
      [](const std::vector<std::tuple<double, double, const Histogram*>>& intervals, double start_time_sec,
         double base_time_sec, double max_value_unit_ratio, const std::string& tag) {
        std::ostringstream out;
        HistogramLogWriter w(out);
        w.write_header(start_time_sec, base_time_sec);
        for (const auto& [start, end, h] : intervals) w.write_interval(*h, start, end, max_value_unit_ratio, tag);
        return out.str();
      },
      pyb::arg("intervals"), pyb::arg("start_time_sec"), pyb::arg("base_time_sec") = -1.0,
      pyb::arg("max_value_unit_ratio") = 1e6, pyb::arg("tag") = "",
      "HdrHistogram interval log (.hlog) text for [(start_s, end_s, histogram), ...].");
}
}  // namespace

}  // namespace hftx::py
