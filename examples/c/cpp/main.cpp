// libwrit from C++ through its C ABI, with the RAII wrapper in writ.hpp: an agent's SQL and
// shell requests checked against two policy packs, a result row masked, an error caught.
//
// Usage: writ_cpp POLICIES_DIR   (the repository's policies/ folder)
#include <iostream>
#include <string>

#include "writ.hpp"

static int failures = 0;

static void expect(bool ok, const std::string &what) {
    std::cout << (ok ? "ok   " : "FAIL ") << what << "\n";
    if (!ok) failures++;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: writ_cpp POLICIES_DIR\n";
        return 2;
    }
    const std::string policies = argv[1];
    try {
        auto data = writ::Engine::from_path(policies + "/data-agents");
        writ::Principal analytics("agent:analytics", {"analysts"});
        auto read = data.check_sql(analytics, "warehouse", "SELECT id, total FROM orders");
        expect(read.allowed(), "analytics reads orders: " + read.reason());
        auto drop = data.check_sql(analytics, "warehouse", "DROP TABLE orders");
        expect(drop.effect() == WRIT_EFFECT_DENY, "DROP is denied: " + drop.reason());
        expect(drop.json().find("\"effect\":\"deny\"") != std::string::npos, "decision JSON");

        auto crm = writ::Engine::from_path(policies + "/customer-masking");
        writ::Principal bot("agent:support-bot", {"support"});
        auto select = crm.check_sql(bot, "crm", "SELECT id, email FROM customers");
        auto row = crm.mask_row(select, {"id", "email"}, {"7", "grace@example.com"});
        expect(row.at(0) == "7" && row.at(1) != "grace@example.com", "email masked: " + row.at(1));

        auto shell = writ::Engine::from_path(policies + "/coding-agent-shell");
        writ::Principal coder("agent:coder", {"dev"});
        auto rm = shell.check_command(coder, "workstation", "r\\m -rf /");
        expect(rm.effect() == WRIT_EFFECT_DENY, "a disguised rm is denied: " + rm.reason());

        try {
            data.check_json("{\"resource\": \"warehouse\"}");
            expect(false, "a malformed request throws");
        } catch (const writ::Error &e) {
            expect(e.code() == WRIT_RESULT_ERR_JSON, std::string("writ::Error: ") + e.what());
        }
    } catch (const writ::Error &e) {
        std::cerr << "error " << e.code() << ": " << e.what() << "\n";
        return 2;
    }
    return failures ? 1 : 0;
}
