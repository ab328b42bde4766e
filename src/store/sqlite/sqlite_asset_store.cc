#include "store/sqlite/sqlite_asset_store.h"

#include <algorithm>
#include <deque>
#include <set>

#include "store/paging.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn::sqlite {
namespace {

constexpr const char* kAssetColumns =
    "kind, name, version, type, description, content_hash, size_bytes, file_count, source, "
    "storage_path, spec, archived, creation_time, created_by";

// A version that is a plain decimal number also gets a numeric column, so the
// next auto-incremented version is MAX + 1 rather than a text comparison.
std::optional<int64_t> VersionNumber(const std::string& version) {
  if (version.empty() || version.size() > 18) return std::nullopt;
  if (version.size() > 1 && version[0] == '0') return std::nullopt;
  for (char c : version) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(version);
}

AssetVersion ReadAsset(Db& db, const Stmt& s) {
  AssetVersion a;
  a.kind = s.Text(0);
  a.name = s.Text(1);
  a.version = s.Text(2);
  a.type = s.Text(3);
  a.description = s.Text(4);
  a.content_hash = s.Text(5);
  a.size_bytes = s.Int(6);
  a.file_count = s.Int(7);
  a.source = s.Text(8);
  a.storage_path = s.Text(9);
  a.spec = s.Text(10);
  a.archived = s.Int(11) != 0;
  a.creation_time = s.Int(12);
  a.created_by = s.Text(13);
  auto t = db.Prepare(
      "SELECT key, value FROM asset_tags WHERE kind = ?1 AND name = ?2 AND version = ?3 "
      "ORDER BY key");
  t.BindAll(a.kind, a.name, a.version);
  while (t.Step()) a.tags.push_back({t.Text(0), t.Text(1)});
  return a;
}

std::optional<AssetVersion> LoadAsset(Db& db, const std::string& kind, const std::string& name,
                                      const std::string& version) {
  auto s = db.Prepare(std::string("SELECT ") + kAssetColumns +
                      " FROM asset_versions WHERE kind = ?1 AND name = ?2 AND version = ?3");
  s.BindAll(kind, name, version);
  if (!s.Step()) return std::nullopt;
  return ReadAsset(db, s);
}

std::string Describe(const std::string& kind, const std::string& name, const std::string& version) {
  return kind + " asset " + name + ":" + version;
}

}  // namespace

Result<AssetStore::Created> SqliteAssetStore::CreateAssetVersion(const AssetVersion& asset) {
  Created out;
  Status st = db_.Write([&](Db& db) {
    AssetVersion a = asset;
    if (a.version.empty()) {
      auto s = db.Prepare(
          "SELECT MAX(version_number) FROM asset_versions WHERE kind = ?1 AND name = ?2");
      s.BindAll(a.kind, a.name);
      int64_t next = 1;
      if (s.Step() && !s.IsNull(0)) next = s.Int(0) + 1;
      a.version = std::to_string(next);
    } else if (auto existing = LoadAsset(db, a.kind, a.name, a.version)) {
      if (existing->content_hash != a.content_hash || existing->type != a.type) {
        Fail(AlreadyExists(Describe(a.kind, a.name, a.version) +
                           " already exists with different content (" +
                           existing->content_hash.substr(0, 12) +
                           "); versions are immutable: register the new content under a new "
                           "version, or omit --version to get the next one"));
      }
      out.asset = *existing;
      out.created = false;
      return;
    }
    int64_t seq = 1;
    {
      auto s = db.Prepare("SELECT MAX(seq) FROM asset_versions");
      if (s.Step() && !s.IsNull(0)) seq = s.Int(0) + 1;
    }
    a.archived = false;
    a.creation_time = db_.clock().NowMillis();
    db.Prepare(
          "INSERT INTO asset_versions (kind, name, version, version_number, seq, type, "
          "description, content_hash, size_bytes, file_count, source, storage_path, spec, "
          "archived, creation_time, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
          "?10, ?11, ?12, ?13, 0, ?14, ?15)")
        .BindAll(a.kind, a.name, a.version, VersionNumber(a.version), seq, a.type, a.description,
                 a.content_hash, a.size_bytes, a.file_count, a.source, a.storage_path, a.spec,
                 a.creation_time, a.created_by)
        .Exec();
    for (const Tag& t : a.tags) {
      db.Prepare(
            "INSERT INTO asset_tags (kind, name, version, key, value) VALUES (?1, ?2, ?3, ?4, "
            "?5)")
          .BindAll(a.kind, a.name, a.version, t.key, t.value)
          .Exec();
    }
    out.asset = std::move(a);
    out.created = true;
  });
  if (!st.ok()) return st;
  return out;
}

Result<AssetVersion> SqliteAssetStore::GetAssetVersion(const std::string& kind,
                                                       const std::string& name,
                                                       const std::string& version) {
  AssetVersion out;
  Status st = db_.Read([&](Db& db) {
    auto a = LoadAsset(db, kind, name, version);
    if (!a) Fail(NotFound(Describe(kind, name, version) + " does not exist"));
    out = std::move(*a);
  });
  if (!st.ok()) return st;
  return out;
}

Result<AssetVersion> SqliteAssetStore::GetLatestAssetVersion(const std::string& kind,
                                                             const std::string& name) {
  AssetVersion out;
  Status st = db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kAssetColumns +
                        " FROM asset_versions WHERE kind = ?1 AND name = ?2 AND archived = 0 "
                        "ORDER BY seq DESC LIMIT 1");
    s.BindAll(kind, name);
    if (!s.Step()) {
      Fail(NotFound(kind + " asset '" + name +
                    "' has no versions that are not archived; see `cairn " + kind + " list`"));
    }
    out = ReadAsset(db, s);
  });
  if (!st.ok()) return st;
  return out;
}

Result<Page<AssetVersion>> SqliteAssetStore::ListAssetVersions(const AssetQuery& query) {
  Page<AssetVersion> page;
  Status st = db_.Read([&](Db& db) {
    const int64_t limit = std::clamp<int64_t>(query.max_results, 1, 1000);
    const int64_t archived_ok = query.include_archived ? 1 : 0;
    auto read = [&](Stmt& s) {
      size_t got = 0;
      while (s.Step()) {
        if (++got <= static_cast<size_t>(limit)) page.items.push_back(ReadAsset(db, s));
      }
      page.next_page_token = NextPageToken(query.offset, got, limit);
    };
    if (!query.name.empty()) {
      auto s = db.Prepare(std::string("SELECT ") + kAssetColumns +
                          " FROM asset_versions WHERE kind = ?1 AND name = ?2 AND (archived = 0 "
                          "OR ?3 = 1) ORDER BY seq DESC LIMIT ?4 OFFSET ?5");
      s.BindAll(query.kind, query.name, archived_ok, limit + 1, query.offset);
      read(s);
    } else {
      // The newest visible version of each name.
      auto s = db.Prepare(std::string("SELECT ") + kAssetColumns +
                          " FROM asset_versions a WHERE kind = ?1 AND (archived = 0 OR ?2 = 1) "
                          "AND seq = (SELECT MAX(seq) FROM asset_versions b WHERE b.kind = a.kind "
                          "AND b.name = a.name AND (b.archived = 0 OR ?2 = 1)) "
                          "ORDER BY name LIMIT ?3 OFFSET ?4");
      s.BindAll(query.kind, archived_ok, limit + 1, query.offset);
      read(s);
    }
  });
  if (!st.ok()) return st;
  return page;
}

Status SqliteAssetStore::SetAssetArchived(const std::string& kind, const std::string& name,
                                          const std::string& version, bool archived) {
  return db_.Write([&](Db& db) {
    db.Prepare(
          "UPDATE asset_versions SET archived = ?4 WHERE kind = ?1 AND name = ?2 AND version = "
          "?3")
        .BindAll(kind, name, version, archived ? 1 : 0)
        .Exec();
    if (db.Changes() == 0) Fail(NotFound(Describe(kind, name, version) + " does not exist"));
  });
}

Result<std::vector<AssetVersion>> SqliteAssetStore::FindAssetsByHash(const std::string& kind,
                                                                     const std::string& hash) {
  std::vector<AssetVersion> out;
  Status st = db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kAssetColumns +
                        " FROM asset_versions WHERE kind = ?1 AND content_hash = ?2 ORDER BY seq");
    s.BindAll(kind, hash);
    while (s.Step()) out.push_back(ReadAsset(db, s));
  });
  if (!st.ok()) return st;
  return out;
}

Status SqliteAssetStore::CreateDatastore(const DatastoreInfo& d) {
  return db_.Write([&](Db& db) {
    auto s = db.Prepare("SELECT root FROM datastores WHERE name = ?1");
    s.BindAll(d.name);
    if (s.Step()) {
      Fail(AlreadyExists("datastore '" + d.name + "' already exists (root " + s.Text(0) +
                         "); datastores are not re-pointed, since data versions resolve "
                         "through them"));
    }
    db.Prepare(
          "INSERT INTO datastores (name, type, root, description, creation_time) VALUES (?1, ?2, "
          "?3, ?4, ?5)")
        .BindAll(d.name, d.type, d.root, d.description, db_.clock().NowMillis())
        .Exec();
  });
}

namespace {
DatastoreInfo ReadDatastore(const Stmt& s) {
  return {s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)};
}
}  // namespace

Result<DatastoreInfo> SqliteAssetStore::GetDatastore(const std::string& name) {
  DatastoreInfo out;
  Status st = db_.Read([&](Db& db) {
    auto s = db.Prepare(
        "SELECT name, type, root, description, creation_time FROM datastores WHERE name = ?1");
    s.BindAll(name);
    if (!s.Step()) {
      Fail(NotFound("datastore '" + name +
                    "' does not exist; create it with `cairn datastore "
                    "create --name " +
                    name + " --path DIR`"));
    }
    out = ReadDatastore(s);
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<DatastoreInfo>> SqliteAssetStore::ListDatastores() {
  std::vector<DatastoreInfo> out;
  Status st = db_.Read([&](Db& db) {
    auto s = db.Prepare(
        "SELECT name, type, root, description, creation_time FROM datastores ORDER BY name");
    while (s.Step()) out.push_back(ReadDatastore(s));
  });
  if (!st.ok()) return st;
  return out;
}

Status SqliteAssetStore::AddLineageEdges(const std::vector<LineageEdge>& edges) {
  return db_.Write([&](Db& db) {
    const int64_t now = db_.clock().NowMillis();
    for (const LineageEdge& e : edges) {
      db.Prepare(
            "INSERT INTO lineage_edges (src, dst, relation, creation_time) VALUES (?1, ?2, ?3, "
            "?4) ON CONFLICT DO NOTHING")
          .BindAll(e.src, e.dst, e.relation, now)
          .Exec();
    }
  });
}

Result<std::vector<LineageEdge>> SqliteAssetStore::WalkLineage(const std::string& entity,
                                                               bool upstream, int depth,
                                                               int64_t max_edges) {
  std::vector<LineageEdge> out;
  Status st = db_.Read([&](Db& db) {
    // Breadth first over the indexed edges, one prepared lookup per node: the
    // cost follows the size of the answer, not of the graph.
    const char* sql = upstream ? "SELECT src, dst, relation, creation_time FROM lineage_edges "
                                 "WHERE dst = ?1 ORDER BY src, relation"
                               : "SELECT src, dst, relation, creation_time FROM lineage_edges "
                                 "WHERE src = ?1 ORDER BY dst, relation";
    std::set<std::string> seen{entity};
    std::vector<std::string> frontier{entity};
    for (int level = 0; level < depth && !frontier.empty(); ++level) {
      std::vector<std::string> next;
      for (const std::string& node : frontier) {
        auto s = db.Prepare(sql);
        s.BindAll(node);
        while (s.Step()) {
          if (static_cast<int64_t>(out.size()) >= max_edges) return;
          LineageEdge e{s.Text(0), s.Text(1), s.Text(2), s.Int(3)};
          const std::string& other = upstream ? e.src : e.dst;
          if (seen.insert(other).second) next.push_back(other);
          out.push_back(std::move(e));
        }
      }
      frontier = std::move(next);
    }
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace cairn::sqlite
