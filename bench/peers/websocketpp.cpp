// Peer: the bench JSON protocol on websocketpp (Debian libwebsocketpp-dev 0.8.2), asio transport without
// TLS, one thread, JSON via Boost.JSON. Usage: websocketpp-peer PORT. Upgrades on "/" and "/ws".
// A client that offers the subprotocol coropush.v1 speaks the JSON protocol; one that offers none
// gets the seed demo (welcome now, notice a second later).
#include <boost/json.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>

using server = websocketpp::server<websocketpp::config::asio>;
using websocketpp::connection_hdl;
namespace json = boost::json;

using hdl_set = std::set<connection_hdl, std::owner_less<connection_hdl>>;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: websocketpp-peer PORT\n";
        return 2;
    }
    const auto port = static_cast<unsigned short>(std::atoi(argv[1]));

    server srv;
    std::map<std::string, hdl_set> topics;                                                  // topic -> subscribers
    std::map<connection_hdl, std::set<std::string>, std::owner_less<connection_hdl>> mine;  // conn -> its topics

    srv.clear_access_channels(websocketpp::log::alevel::all);
    srv.clear_error_channels(websocketpp::log::elevel::all);
    srv.init_asio();
    srv.set_reuse_addr(true);
    srv.set_listen_backlog(4096);
    srv.set_tcp_post_init_handler([&](connection_hdl h) {  // socket is open (accepted) here
        boost::system::error_code ec;
        srv.get_con_from_hdl(h)->get_raw_socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
    });
    srv.set_validate_handler([&](connection_hdl h) {
        auto c = srv.get_con_from_hdl(h);
        std::string r = c->get_resource();
        r = r.substr(0, r.find('?'));
        for (auto const& p : c->get_requested_subprotocols())
            if (p == "coropush.v1")
                c->select_subprotocol(p);
        return r == "/" || r == "/ws";
    });
    srv.set_close_handler([&](connection_hdl h) {
        auto it = mine.find(h);
        if (it == mine.end())
            return;
        for (auto const& t : it->second) {
            auto ti = topics.find(t);
            if (ti != topics.end()) {
                ti->second.erase(h);
                if (ti->second.empty())
                    topics.erase(ti);
            }
        }
        mine.erase(it);
    });
    auto send = [&](connection_hdl h, std::string const& s) {
        websocketpp::lib::error_code ec;
        srv.send(h, s, websocketpp::frame::opcode::text, ec);
    };
    srv.set_message_handler([&](connection_hdl h, server::message_ptr msg) {
        if (srv.get_con_from_hdl(h)->get_subprotocol().empty()) {  // no subprotocol: the seed demo
            send(h, "欢迎你朋友！");
            srv.set_timer(1000, [&, h](websocketpp::lib::error_code const& e) {
                if (!e)
                    send(h, "朋友，既然来就多看看！");
            });
            return;
        }
        json::error_code ec;
        json::value v = json::parse(msg->get_payload(), ec);
        if (ec || !v.is_object()) {
            send(h, R"({"type":"error","data":{"code":"bad_json"}})");
            return;
        }
        auto& o = v.as_object();
        auto* type = o.if_contains("type");
        if (!type || !type->is_string()) {
            send(h, R"({"type":"error","data":{"code":"bad_envelope"}})");
            return;
        }
        json::object empty;
        auto* dv = o.if_contains("data");
        json::object& d = (dv && dv->is_object()) ? dv->as_object() : empty;
        auto str = [&](const char* k) -> std::string {
            auto* p = d.if_contains(k);
            return p && p->is_string() ? std::string(p->as_string()) : std::string();
        };
        json::object out;
        out["type"] = "error";
        if (auto* id = o.if_contains("id"))
            out["id"] = *id;
        auto const& t = type->as_string();
        if (t == "echo") {
            out["type"] = "echo";
            out["data"] = json::object{{"text", d.contains("text") ? d["text"] : json::value()}};
        } else if (t == "subscribe") {
            auto topic = str("topic");
            topics[topic].insert(h);
            mine[h].insert(topic);
            out["type"] = "subscribed";
            out["data"] = json::object{{"topic", topic}};
        } else if (t == "publish") {
            auto topic = str("topic");
            std::size_t k = 0;
            auto ti = topics.find(topic);
            if (ti != topics.end()) {
                std::string m = json::serialize(
                    json::object{{"type", "message"},
                                 {"data", json::object{{"topic", topic},
                                                       {"text", d.contains("text") ? d["text"] : json::value()}}}});
                for (auto const& sub : ti->second) {
                    send(sub, m);
                    ++k;
                }
            }
            out["type"] = "published";
            out["data"] = json::object{{"topic", topic}, {"delivered", k}};
        } else {
            out["data"] = json::object{{"code", "unknown_type"}};
        }
        send(h, json::serialize(out));
    });

    srv.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    srv.start_accept();
    std::cerr << "websocketpp peer listening on 127.0.0.1:" << port << "\n";
    srv.run();
}
