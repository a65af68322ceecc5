-- The schema the migrations make on an empty SQLite database, with their records.
-- Written by `python -m scripts.sqlite_snapshot`; do not edit.
CREATE TABLE "app_group_members" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "group_id" CHAR(36) NOT NULL REFERENCES "app_groups" ("id") ON DELETE CASCADE,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_app_group_m_group_i_407d3d" UNIQUE ("group_id", "user_id")
);
CREATE TABLE "app_groups" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "name" VARCHAR(128) NOT NULL UNIQUE,
    "description" VARCHAR(512) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE "app_role_grants" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "group_id" CHAR(36) REFERENCES "app_groups" ("id") ON DELETE CASCADE,
    "role_id" CHAR(36) NOT NULL REFERENCES "app_roles" ("id") ON DELETE CASCADE,
    "user_id" CHAR(36) REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_app_role_gr_role_id_a3a1e6" UNIQUE ("role_id", "user_id"),
    CONSTRAINT "uid_app_role_gr_role_id_f73b17" UNIQUE ("role_id", "group_id")
);
CREATE TABLE "app_roles" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "name" VARCHAR(128) NOT NULL UNIQUE,
    "description" VARCHAR(512) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE "audit_events" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "event" VARCHAR(64) NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "user_id" CHAR(36),
    "session_id" CHAR(36),
    "client_id" VARCHAR(128),
    "ip" VARCHAR(64) NOT NULL,
    "user_agent" VARCHAR(512) NOT NULL,
    "request_id" VARCHAR(128) NOT NULL,
    "details" JSON NOT NULL
);
CREATE TABLE "authorization_codes" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "code_hash" VARCHAR(64) NOT NULL UNIQUE,
    "client_id" VARCHAR(128) NOT NULL,
    "redirect_uri" VARCHAR(2048) NOT NULL,
    "scope" VARCHAR(1024) NOT NULL,
    "nonce" VARCHAR(512),
    "code_challenge" VARCHAR(128),
    "auth_time" TIMESTAMP NOT NULL,
    "amr" JSON NOT NULL,
    "acr" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "issued_family_id" CHAR(36),
    "issued_access_jti" VARCHAR(64),
    "session_id" CHAR(36) NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
, "resources" JSON);
CREATE TABLE "backup_codes" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "code_hash" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_backup_code_user_id_0bc41b" UNIQUE ("user_id", "code_hash")
);
CREATE TABLE "clients" (
    "id" VARCHAR(128) NOT NULL  PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "secret_hash" VARCHAR(64),
    "previous_secret_hash" VARCHAR(64),
    "previous_secret_expires_at" TIMESTAMP,
    "public" INT NOT NULL,
    "redirect_uris" JSON NOT NULL,
    "post_logout_redirect_uris" JSON NOT NULL,
    "grant_types" JSON NOT NULL,
    "scopes" JSON NOT NULL,
    "token_endpoint_auth_method" VARCHAR(32) NOT NULL,
    "jwks" JSON,
    "jwks_uri" VARCHAR(2048),
    "id_token_signed_response_alg" VARCHAR(16) NOT NULL,
    "access_token_signed_response_alg" VARCHAR(16) NOT NULL,
    "audience" VARCHAR(512) NOT NULL,
    "access_token_ttl" INT,
    "refresh_token_ttl" INT,
    "first_party" INT NOT NULL,
    "require_mfa" INT NOT NULL,
    "require_verified_email" INT NOT NULL,
    "disabled" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
, "introspect_any" INT NOT NULL DEFAULT 0, "app_role_names" JSON, "app_role_prefix" VARCHAR(128) NOT NULL DEFAULT '', "app_group_prefix" VARCHAR(128) NOT NULL DEFAULT '', "app_group_names" JSON, "client_metadata" JSON, "registration" VARCHAR(24) NOT NULL DEFAULT 'admin', "registration_token_hash" VARCHAR(64), "logo_uri" VARCHAR(2048));
CREATE TABLE "consents" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "client_id" VARCHAR(128) NOT NULL,
    "scopes" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_consents_user_id_9d7a3a" UNIQUE ("user_id", "client_id")
);
CREATE TABLE "federated_identities" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "subject" VARCHAR(255) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "linked_at" TIMESTAMP NOT NULL,
    "last_used_at" TIMESTAMP,
    "provider_id" VARCHAR(32) NOT NULL REFERENCES "identity_providers" ("slug") ON DELETE CASCADE,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_federated_i_provide_0cecf0" UNIQUE ("provider_id", "subject"),
    CONSTRAINT "uid_federated_i_provide_d3824e" UNIQUE ("provider_id", "user_id")
);
CREATE TABLE "identity_providers" (
    "slug" VARCHAR(32) NOT NULL  PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "issuer" VARCHAR(2048) NOT NULL,
    "authorize_url" VARCHAR(2048) NOT NULL,
    "token_url" VARCHAR(2048) NOT NULL,
    "userinfo_url" VARCHAR(2048) NOT NULL,
    "emails_url" VARCHAR(2048) NOT NULL,
    "claims" JSON NOT NULL,
    "client_id" VARCHAR(256) NOT NULL,
    "client_secret_sealed" VARCHAR(1024) NOT NULL,
    "scopes" JSON NOT NULL,
    "enabled" INT NOT NULL,
    "allow_signup" INT NOT NULL,
    "trust_email" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE TABLE "initial_access_tokens" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "note" VARCHAR(200) NOT NULL,
    "uses_left" INT NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "created_by" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE "one_time_tokens" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "purpose" VARCHAR(32) NOT NULL,
    "data" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE TABLE "passkeys" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "credential_id" VARCHAR(1366) NOT NULL UNIQUE,
    "public_key" BLOB NOT NULL,
    "sign_count" BIGINT NOT NULL,
    "transports" JSON NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "aaguid" VARCHAR(36) NOT NULL,
    "backup_eligible" INT NOT NULL,
    "backed_up" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "last_used_at" TIMESTAMP,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE TABLE "refresh_tokens" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "family_id" CHAR(36) NOT NULL,
    "parent_id" CHAR(36),
    "user_id" CHAR(36) NOT NULL,
    "client_id" VARCHAR(128) NOT NULL,
    "scope" VARCHAR(1024) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "family_expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "revoked_reason" VARCHAR(64),
    "session_id" CHAR(36) NOT NULL REFERENCES "sessions" ("id") ON DELETE CASCADE
, "resources" JSON);
CREATE TABLE "resource_servers" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "identifier" VARCHAR(512) NOT NULL UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "scopes" JSON NOT NULL,
    "access_token_ttl" INT,
    "signing_alg" VARCHAR(16) NOT NULL,
    "allowed_clients" JSON,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL
);
CREATE TABLE "sessions" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "last_active_at" TIMESTAMP NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "auth_time" TIMESTAMP NOT NULL,
    "amr" JSON NOT NULL,
    "acr" VARCHAR(64) NOT NULL,
    "ip" VARCHAR(64) NOT NULL,
    "user_agent" VARCHAR(512) NOT NULL,
    "revoked_at" TIMESTAMP,
    "revoked_reason" VARCHAR(64),
    "compromised_at" TIMESTAMP,
    "cookie_hash" VARCHAR(64)  UNIQUE,
    "user_id" CHAR(36) NOT NULL REFERENCES "users" ("id") ON DELETE CASCADE
);
CREATE TABLE "tortoise_migrations" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "app" VARCHAR(255) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "applied_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_tortoise_mi_app_3803a5" UNIQUE ("app", "name")
);
INSERT INTO "tortoise_migrations" VALUES
(1,'provider','0001_initial',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(2,'provider','0002_client_introspect_any',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(3,'provider','0003_upstream_identity_providers',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(4,'provider','0004_self_service',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(5,'provider','0005_self',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(6,'provider','0006_resources',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(7,'provider','0007_dcr',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(8,'provider','0008_passkeys',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
(9,'provider','0009_pages',strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'));
CREATE TABLE "users" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "username" VARCHAR(64)  UNIQUE,
    "name" VARCHAR(200) NOT NULL,
    "password_hash" VARCHAR(255) NOT NULL,
    "role" VARCHAR(16) NOT NULL,
    "email_verified_at" TIMESTAMP,
    "locked_until" TIMESTAMP,
    "phone_number" VARCHAR(32),
    "address" JSON,
    "deleted_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "totp_secret" VARCHAR(255),
    "totp_pending_secret" VARCHAR(255),
    "totp_enabled_at" TIMESTAMP,
    "totp_last_step" BIGINT
, "purge_after" TIMESTAMP, "given_name" VARCHAR(200), "family_name" VARCHAR(200), "locale" VARCHAR(35), "zoneinfo" VARCHAR(64), "picture" VARCHAR(2048), "passkey_user_handle" VARCHAR(64));
CREATE INDEX "idx_audit_event_created_be2801" ON "audit_events" ("created_at");
CREATE INDEX "idx_audit_event_event_655ec4" ON "audit_events" ("event");
CREATE INDEX "idx_audit_event_user_id_f68eb4" ON "audit_events" ("user_id");
CREATE INDEX "idx_one_time_to_expires_ad5792" ON "one_time_tokens" ("expires_at");
CREATE INDEX "idx_sessions_expires_6bcc94" ON "sessions" ("expires_at");
CREATE INDEX "idx_sessions_user_id_595811" ON "sessions" ("user_id", "revoked_at");
CREATE INDEX "idx_authorizati_expires_f69a02" ON "authorization_codes" ("expires_at");
CREATE INDEX "idx_refresh_tok_family__59d0e5" ON "refresh_tokens" ("family_id");
CREATE INDEX "idx_refresh_tok_user_id_9ddaa8" ON "refresh_tokens" ("user_id");
CREATE INDEX "idx_refresh_tok_expires_310999" ON "refresh_tokens" ("expires_at");
CREATE UNIQUE INDEX "uid_users_passkey_c2433c" ON "users" ("passkey_user_handle");
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('tortoise_migrations',9);
