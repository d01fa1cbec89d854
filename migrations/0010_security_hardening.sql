-- What a penetration test asked for: sign-in throttled per email and address, password changes
-- throttled, site events in the security log, and members added by invitation.

-- Sign-in failures are counted per email and address (so that guesses from one place cannot lock
-- the owner out everywhere) and per address.
CREATE INDEX login_failures_email_ip_at_idx ON login_failures (email, ip, at);
DROP INDEX login_failures_email_at_idx;
-- The roll-up process purges old rows by time.
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- Wrong current passwords on PUT /api/user/password, counted per account to throttle guessing by
-- whoever holds a session; kept only for the window.
CREATE TABLE password_change_failures (
    id      bigserial PRIMARY KEY,
    user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_change_failures_user_at_idx ON password_change_failures (user_id, at);
CREATE INDEX password_change_failures_at_idx ON password_change_failures (at);

-- The site an entry is about (site created, member added, …). No foreign key: the entry outlives
-- the site, as a log must.
ALTER TABLE audit_log ADD COLUMN site_id text;
ALTER TABLE audit_log ADD COLUMN detail text;

-- People invited to a site by email. Adding a member never reveals whether the email has an account:
-- the invitation becomes a membership when its person signs in or creates their account.
CREATE TABLE site_invitations (
    site_id    text NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    email      text NOT NULL,                       -- lower-cased
    role       text NOT NULL CHECK (role IN ('admin', 'viewer')),
    invited_by text REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (site_id, email)
);
CREATE INDEX site_invitations_email_idx ON site_invitations (email);
ALTER TABLE site_invitations SET (autovacuum_analyze_threshold = 0);
