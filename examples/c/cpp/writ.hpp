// A small C++17 RAII wrapper over libwrit's C ABI: handles become move-only objects that free
// themselves, failures become `writ::Error` exceptions carrying the result code and message.
// Header-only; link with libwrit (pkg-config --cflags --libs writ).
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "writ.h"

namespace writ {

// A failed call: the code of writ.h and the message of writ_last_error().
class Error : public std::runtime_error {
  public:
    Error(writ_result code, const char *message) : std::runtime_error(message), code_(code) {}
    writ_result code() const noexcept { return code_; }

  private:
    writ_result code_;
};

inline void check(writ_result rc) {
    if (rc != WRIT_RESULT_OK) throw Error(rc, writ_last_error());
}

template <typename T, void (*Free)(T *)>
struct Deleter {
    void operator()(T *p) const noexcept { Free(p); }
};
template <typename T, void (*Free)(T *)>
using Handle = std::unique_ptr<T, Deleter<T, Free>>;

class Principal {
  public:
    explicit Principal(std::string_view id, const std::vector<std::string> &groups = {}) {
        writ_principal *p = nullptr;
        check(writ_principal_new(id.data(), id.size(), &p));
        handle_.reset(p);
        for (const auto &g : groups) check(writ_principal_add_group(p, g.data(), g.size()));
    }
    const writ_principal *get() const noexcept { return handle_.get(); }

  private:
    Handle<writ_principal, writ_principal_free> handle_;
};

class Decision {
  public:
    explicit Decision(writ_decision *d) : handle_(d) {}
    writ_effect effect() const noexcept { return writ_decision_effect(handle_.get()); }
    bool allowed() const noexcept { return effect() == WRIT_EFFECT_ALLOW; }
    std::string effect_name() const { return writ_effect_name(effect()); }
    std::string reason() const { return writ_decision_reason(handle_.get()); }
    std::string digest() const { return writ_decision_digest(handle_.get()); }
    std::vector<std::string> rules() const {
        std::vector<std::string> out;
        for (size_t i = 0; i < writ_decision_rule_count(handle_.get()); i++)
            out.emplace_back(writ_decision_rule(handle_.get(), i));
        return out;
    }
    std::vector<std::string> masked_columns() const {
        std::vector<std::string> out;
        for (size_t i = 0; i < writ_decision_masked_count(handle_.get()); i++)
            out.emplace_back(writ_decision_masked_column(handle_.get(), i));
        return out;
    }
    std::string json() const {
        const char *text = nullptr;
        size_t len = 0;
        check(writ_decision_json(handle_.get(), &text, &len));
        return std::string(text, len);
    }
    const writ_decision *get() const noexcept { return handle_.get(); }

  private:
    Handle<writ_decision, writ_decision_free> handle_;
};

// One engine per process, shared by every thread.
class Engine {
  public:
    static Engine from_path(std::string_view path) {
        writ_engine *e = nullptr;
        check(writ_engine_new_from_path(path.data(), path.size(), nullptr, &e));
        return Engine(e);
    }
    Decision check_sql(const Principal &who, std::string_view resource, std::string_view sql) const {
        writ_decision *d = nullptr;
        check(writ_check_sql(handle_.get(), who.get(), resource.data(), resource.size(), sql.data(),
                             sql.size(), &d));
        return Decision(d);
    }
    Decision check_command(const Principal &who, std::string_view resource, std::string_view line) const {
        writ_decision *d = nullptr;
        check(writ_check_command(handle_.get(), who.get(), resource.data(), resource.size(),
                                 line.data(), line.size(), &d));
        return Decision(d);
    }
    Decision check_json(std::string_view request) const {
        writ_decision *d = nullptr;
        check(writ_check_json(handle_.get(), request.data(), request.size(), &d));
        return Decision(d);
    }
    // Masks one result row (this wrapper passes no SQL NULLs in) as the decision's mask plan
    // says; returns the masked values ("NULL" for a NULL). Throws for a decision not allowed.
    std::vector<std::string> mask_row(const Decision &decision, const std::vector<std::string> &columns,
                                      const std::vector<std::string> &row) const {
        std::vector<const char *> names, values;
        std::vector<size_t> name_lens, value_lens;
        for (const auto &c : columns) names.push_back(c.data()), name_lens.push_back(c.size());
        for (const auto &v : row) values.push_back(v.data()), value_lens.push_back(v.size());
        writ_masked_rows *rows = nullptr;
        check(writ_engine_mask_rows(handle_.get(), decision.get(), names.data(), name_lens.data(),
                                    names.size(), values.data(), value_lens.data(), 1, &rows));
        Handle<writ_masked_rows, writ_masked_rows_free> owned(rows);
        std::vector<std::string> out;
        for (size_t c = 0; c < columns.size(); c++) {
            const char *v = nullptr;
            size_t len = 0;
            check(writ_masked_rows_value(rows, 0, c, &v, &len));
            out.emplace_back(v ? std::string(v, len) : std::string("NULL"));
        }
        return out;
    }

  private:
    explicit Engine(writ_engine *e) : handle_(e) {}
    Handle<writ_engine, writ_engine_free> handle_;
};

}  // namespace writ
