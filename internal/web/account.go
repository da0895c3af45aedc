package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// accountRoutes lists the account pages (the URLs upstream uses).
func (s *Server) accountRoutes() {
	e := s.echo
	e.GET("/accounts/register/", s.register)
	e.POST("/accounts/register/", s.register)
	e.GET("/accounts/verify/:token/", s.verifyEmail)
	e.POST("/accounts/verify/:token/", s.verifyEmail)
	e.GET("/accounts/login/", s.login)
	e.POST("/accounts/login/", s.login)
	e.POST("/accounts/logout/", s.logout)
	e.GET("/accounts/password_reset/", s.resetRequest)
	e.POST("/accounts/password_reset/", s.resetRequest)
	e.GET("/accounts/reset/:token/", s.resetPassword)
	e.POST("/accounts/reset/:token/", s.resetPassword)
	e.GET("/accounts/profile/", s.profile)
	e.POST("/accounts/profile/", s.profile)
	e.GET("/accounts/password_change/", s.passwordChange)
	e.POST("/accounts/password_change/", s.passwordChange)
	e.GET("/accounts/email/", s.emailChange)
	e.POST("/accounts/email/", s.emailChange)
	e.GET("/layerindex/profile/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/accounts/profile/") })
	e.GET("/accounts/delete/", s.deleteAccount)
	e.POST("/accounts/delete/", s.deleteAccount)
	e.POST("/accounts/tokens/", s.createAPIToken)
	e.POST("/accounts/tokens/:id/revoke/", s.revokeAPIToken)
	// The API endpoints that act, authenticated by API token (apitokens.go).
	e.POST("/layerindex/api/layerItems/:id/reindex/", s.apiReindex)
	s.ssoRoutes()
}

// formData is what every form page renders.
type formData struct {
	pageData
	Form  *form
	Error string // a message about the whole form
}

// notice renders a page with a title and a message (check your mail, link
// expired, done).
func (s *Server) notice(c echo.Context, status int, title, msg string) error {
	data := struct {
		pageData
		Title, Message string
	}{s.formPage(c), title, msg}
	return s.pages.render(c, status, "notice", data)
}

// formStatus is the status of a form page: 200 when shown, 422 when a
// post had errors, 429 when it was refused by a rate limit.
func formStatus(c echo.Context, f *form, limited bool) int {
	switch {
	case limited:
		return http.StatusTooManyRequests
	case c.Request().Method == http.MethodPost && !f.OK():
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

func (s *Server) register(c echo.Context) error {
	if s.opts.NoLocalPasswords {
		return s.noLocalPasswords(c)
	}
	ctx := c.Request().Context()
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
	}
	f := newForm(nil)
	data := &formData{Form: f}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		data.Form = f
		email := f.email("email", true)
		name := f.text("name", textOpts{max: 100})
		pw := f.V("password")
		if err := auth.ValidatePassword(pw); err != nil {
			f.fail("password", "The %s.", err.Error())
		} else if pw != f.V("password2") {
			f.fail("password2", "The two passwords differ.")
		}
		f.set("password", "")
		f.set("password2", "")
		checks := []limitCheck{{s.acct.limits.RegisterPerIP, c.RealIP()}, {s.acct.limits.RegisterPerAccount, store.NormalizeEmail(email)}}
		if f.OK() {
			msg, err := s.limited(ctx, checks...)
			if err != nil {
				return err
			}
			if msg != "" {
				data.Error, data.pageData = msg, s.formPage(c)
				return s.pages.render(c, http.StatusTooManyRequests, "register", data)
			}
			if err := s.hit(ctx, checks...); err != nil {
				return err
			}
			if err := s.createAccount(c, email, name, pw); err != nil {
				return err
			}
			// The same answer whether or not the address had an account:
			// the mail itself tells its owner which case it is.
			return s.notice(c, http.StatusOK, "Check your email",
				"We have sent a message to "+email+". Open the link in it to confirm your address and activate your account.")
		}
	}
	data.pageData = s.formPage(c)
	return s.pages.render(c, formStatus(c, f, false), "register", data)
}

// createAccount creates an unverified account and mails its verification
// link, or, when the address is taken, mails its owner about the attempt.
func (s *Server) createAccount(c echo.Context, email, name, pw string) error {
	ctx := c.Request().Context()
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	return s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		if _, err := tx.UserByEmail(ctx, email); err == nil {
			return s.enqueueMail(tx, "register_exists", []string{email}, nil)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		u := &store.User{Email: email, Name: name, PasswordHash: hash, IsActive: true}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		return s.mailToken(ctx, tx, u, store.TokenVerify, email)
	})
}

// mailToken creates a verification or email-change token and mails its link.
func (s *Server) mailToken(ctx context.Context, tx *jobs.Tx, u *store.User, purpose, email string) error {
	token, hash := auth.NewToken()
	t := &store.UserToken{UserID: u.ID, Purpose: purpose, TokenHash: hash, Email: email,
		ExpiresAt: time.Now().UTC().Add(auth.VerifyTokenTTL)}
	if err := tx.CreateToken(ctx, t); err != nil {
		return err
	}
	kind := "verify"
	if purpose == store.TokenEmail {
		kind = "email_change"
	}
	return s.enqueueMail(tx, kind, []string{email}, map[string]any{
		"Name": u.Name, "Link": s.absURL("/accounts/verify/" + token + "/"), "Hours": int(auth.VerifyTokenTTL.Hours())})
}

// verifyEmail confirms an address: GET shows a button (mail scanners
// follow links; only a person's POST uses the token), POST uses it.
func (s *Server) verifyEmail(c echo.Context) error {
	ctx := c.Request().Context()
	hash := auth.HashToken(c.Param("token"))
	t, err := s.store.ValidToken(ctx, store.TokenVerify, hash)
	if errors.Is(err, store.ErrNotFound) {
		t, err = s.store.ValidToken(ctx, store.TokenEmail, hash)
	}
	if errors.Is(err, store.ErrNotFound) {
		return s.notice(c, http.StatusNotFound, "Link not valid",
			"This confirmation link is not valid: it was already used, or it has expired. Log in to get a new one.")
	}
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		data := struct {
			pageData
			Email string
		}{s.formPage(c), t.Email}
		return s.pages.render(c, http.StatusOK, "verify", data)
	}
	var conflict bool
	err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		t, err := tx.UseToken(ctx, t.Purpose, hash)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, t.UserID)
		if err != nil {
			return err
		}
		if t.Purpose == store.TokenVerify {
			return tx.VerifyUser(ctx, u.ID, "")
		}
		if err := tx.VerifyUser(ctx, u.ID, t.Email); errors.Is(err, store.ErrConflict) {
			conflict = true
			return err
		} else if err != nil {
			return err
		}
		return s.enqueueMail(tx, "email_changed", []string{u.Email}, map[string]any{"NewEmail": t.Email})
	})
	switch {
	case conflict:
		return s.notice(c, http.StatusConflict, "Address in use", "Another account now uses "+t.Email+"; your address was not changed.")
	case errors.Is(err, store.ErrNotFound):
		return s.notice(c, http.StatusNotFound, "Link not valid", "This confirmation link was already used.")
	case err != nil:
		return err
	}
	if currentUser(c) != nil {
		s.flash(c, "Your email address %s is confirmed.", t.Email)
		return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
	}
	return s.notice(c, http.StatusOK, "Email address confirmed",
		"Thank you: "+t.Email+" is confirmed. You can now log in.")
}

func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	f := newForm(nil)
	f.set("next", safeNext(c.QueryParam("next")))
	data := &formData{Form: f}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		data.Form = f
		var email string
		if s.opts.LDAP != nil {
			// A directory user name, or an address.
			email = f.text("email", textOpts{required: true, max: 254})
		} else {
			email = f.email("email", true)
		}
		pw := f.V("password")
		f.set("password", "")
		f.set("next", safeNext(f.V("next")))
		if pw == "" {
			f.fail("password", "This field is required.")
		}
		if f.OK() && s.opts.NoLocalPasswords && s.opts.LDAP == nil {
			data.pageData = s.formPage(c)
			data.Error = "Password sign-in is turned off on this site: use " + data.OIDCLabel + "."
			return s.pages.render(c, http.StatusForbidden, "login", data)
		}
		if f.OK() {
			ip := limitCheck{s.acct.limits.LoginPerIP, c.RealIP()}
			acct := limitCheck{s.acct.limits.LoginPerAccount, store.NormalizeEmail(email)}
			msg, err := s.limited(ctx, ip, acct)
			if err != nil {
				return err
			}
			if msg != "" {
				// The same lockout for every address, existing or not.
				data.Error, data.pageData = msg, s.formPage(c)
				return s.pages.render(c, http.StatusTooManyRequests, "login", data)
			}
			directoryDown := false
			if s.opts.LDAP != nil {
				id, err := s.opts.LDAP.Authenticate(ctx, email, pw)
				switch {
				case err == nil:
					if err := s.acct.limiter.Reset(ctx, acct.lim, acct.key); err != nil {
						return err
					}
					return s.externalSignIn(c, id, f.V("next"))
				case errors.Is(err, auth.ErrSignIn):
					data.Error, data.pageData = err.Error()+".", s.formPage(c)
					return s.pages.render(c, http.StatusForbidden, "login", data)
				case errors.Is(err, auth.ErrDirectoryDown):
					// Not the person's fault: not counted against them.
					s.log.WarnContext(c.Request().Context(), "LDAP sign-in", "err", err)
					directoryDown = true
				case !errors.Is(err, auth.ErrBadCredentials):
					return err
				}
			}
			if directoryDown && s.opts.NoLocalPasswords {
				data.Error, data.pageData = directoryDownMsg, s.formPage(c)
				return s.pages.render(c, http.StatusServiceUnavailable, "login", data)
			}
			if s.opts.NoLocalPasswords {
				if err := s.hit(ctx, ip, acct); err != nil {
					return err
				}
				data.Error, data.pageData = auth.ErrBadCredentials.Error()+".", s.formPage(c)
				return s.pages.render(c, http.StatusUnprocessableEntity, "login", data)
			}
			u, err := s.store.UserByEmail(ctx, email)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			hash := dummyHash()
			if err == nil {
				hash = u.PasswordHash
			}
			// Unknown addresses cost the same Argon2 work as known ones.
			if !auth.CheckPassword(pw, hash) || err != nil {
				if directoryDown {
					data.Error, data.pageData = directoryDownMsg, s.formPage(c)
					return s.pages.render(c, http.StatusServiceUnavailable, "login", data)
				}
				if err := s.hit(ctx, ip, acct); err != nil {
					return err
				}
				data.Error = auth.ErrBadCredentials.Error() + "."
			} else {
				return s.loggedIn(c, u, acct, f.V("next"), data)
			}
		}
	}
	data.pageData = s.formPage(c)
	status := formStatus(c, f, false)
	if data.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	return s.pages.render(c, status, "login", data)
}

// directoryDownMsg answers a sign-in while the LDAP directory is unreachable.
const directoryDownMsg = "The company directory (LDAP) does not answer, so your password cannot be checked. Try again in a few minutes, or tell the site's administrators."

// dummyHash is checked against when an address has no account. It is
// computed on the first such login, not when the program starts: every
// command of the binary (layerindex parse among them) would otherwise pay
// an Argon2id hash, 19 MiB and tens of milliseconds, at start-up.
var dummyHash = sync.OnceValue(func() string {
	h, _ := auth.HashPassword("no account has this password")
	return h
})

// loggedIn finishes a login whose password was right.
func (s *Server) loggedIn(c echo.Context, u *store.User, acct limitCheck, next string, data *formData) error {
	ctx := c.Request().Context()
	switch {
	case !u.IsActive:
		data.Error = "This account is disabled. Contact the site's administrators."
	case !u.Verified:
		// The password proves the account; send a fresh link.
		err := s.jobs.InTx(ctx, func(tx *jobs.Tx) error { return s.mailToken(ctx, tx, u, store.TokenVerify, u.Email) })
		if err != nil {
			return err
		}
		return s.notice(c, http.StatusForbidden, "Confirm your email address first",
			"Your account is not active until you confirm "+u.Email+". We have sent a new confirmation link to it.")
	default:
		if err := s.acct.limiter.Reset(ctx, acct.lim, acct.key); err != nil {
			return err
		}
		if err := s.acct.sessions.LogIn(ctx, u.ID); err != nil {
			return err
		}
		if err := s.store.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		if next == "" {
			next = "/accounts/profile/"
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	data.pageData = s.formPage(c)
	return s.pages.render(c, http.StatusForbidden, "login", data)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.acct.sessions.LogOut(c.Request().Context()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) resetRequest(c echo.Context) error {
	if s.opts.NoLocalPasswords {
		return s.noLocalPasswords(c)
	}
	ctx := c.Request().Context()
	f := newForm(nil)
	data := &formData{Form: f}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		data.Form = f
		email := f.email("email", true)
		if f.OK() {
			checks := []limitCheck{{s.acct.limits.ResetPerIP, c.RealIP()}, {s.acct.limits.ResetPerAccount, store.NormalizeEmail(email)}}
			msg, err := s.limited(ctx, checks...)
			if err != nil {
				return err
			}
			if msg != "" {
				data.Error, data.pageData = msg, s.formPage(c)
				return s.pages.render(c, http.StatusTooManyRequests, "resetrequest", data)
			}
			if err := s.hit(ctx, checks...); err != nil {
				return err
			}
			u, err := s.store.UserByEmail(ctx, email)
			if err == nil && u.IsActive {
				err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
					token, hash := auth.NewToken()
					t := &store.UserToken{UserID: u.ID, Purpose: store.TokenReset, TokenHash: hash, Email: u.Email,
						ExpiresAt: time.Now().UTC().Add(auth.ResetTokenTTL)}
					if err := tx.CreateToken(ctx, t); err != nil {
						return err
					}
					return s.enqueueMail(tx, "reset", []string{u.Email}, map[string]any{
						"Link": s.absURL("/accounts/reset/" + token + "/"), "Minutes": int(auth.ResetTokenTTL.Minutes())})
				})
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return s.notice(c, http.StatusOK, "Check your email",
				"If an active account uses "+email+", we have sent it a link to choose a new password. The link works once, within an hour.")
		}
	}
	data.pageData = s.formPage(c)
	return s.pages.render(c, formStatus(c, f, false), "resetrequest", data)
}

func (s *Server) resetPassword(c echo.Context) error {
	if s.opts.NoLocalPasswords {
		return s.noLocalPasswords(c)
	}
	ctx := c.Request().Context()
	hash := auth.HashToken(c.Param("token"))
	t, err := s.store.ValidToken(ctx, store.TokenReset, hash)
	if errors.Is(err, store.ErrNotFound) {
		return s.notice(c, http.StatusNotFound, "Link not valid",
			"This password reset link is not valid: it was already used, or it has expired. Ask for a new one.")
	}
	if err != nil {
		return err
	}
	f := newForm(nil)
	data := &formData{Form: f}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		data.Form = f
		pw := newPassword(f)
		if f.OK() {
			phash, err := auth.HashPassword(pw)
			if err != nil {
				return err
			}
			err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
				if _, err := tx.UseToken(ctx, store.TokenReset, hash); err != nil {
					return err
				}
				if err := tx.SetPassword(ctx, t.UserID, phash); err != nil {
					return err
				}
				// The link proved the mailbox: the address is verified.
				if err := tx.VerifyUser(ctx, t.UserID, ""); err != nil {
					return err
				}
				if err := tx.RevokeTokens(ctx, t.UserID, store.TokenReset); err != nil {
					return err
				}
				if err := tx.DeleteUserSessions(ctx, t.UserID, ""); err != nil {
					return err
				}
				return s.enqueueMail(tx, "password_changed", []string{t.Email}, nil)
			})
			if errors.Is(err, store.ErrNotFound) {
				return s.notice(c, http.StatusNotFound, "Link not valid", "This password reset link was already used.")
			}
			if err != nil {
				return err
			}
			// A person locked out by failed logins can log in at once.
			if err := s.acct.limiter.Reset(ctx, s.acct.limits.LoginPerAccount, store.NormalizeEmail(t.Email)); err != nil {
				return err
			}
			return s.notice(c, http.StatusOK, "Password changed",
				"Your new password is set, and every session of the account was logged out. You can now log in.")
		}
	}
	data.pageData = s.formPage(c)
	return s.pages.render(c, formStatus(c, f, false), "resetpassword", data)
}

// newPassword validates the password and password2 fields.
func newPassword(f *form) string {
	pw := f.V("password")
	if err := auth.ValidatePassword(pw); err != nil {
		f.fail("password", "The %s.", err.Error())
	} else if pw != f.V("password2") {
		f.fail("password2", "The two passwords differ.")
	}
	f.set("password", "")
	f.set("password2", "")
	return pw
}

func (s *Server) profile(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	f := newForm(nil)
	f.set("name", u.Name)
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		name := f.text("name", textOpts{max: 100})
		if f.OK() {
			if err := s.store.SetUserName(ctx, u.ID, name); err != nil {
				return err
			}
			s.flash(c, "Your name is saved.")
			return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
		}
	}
	return s.renderProfile(c, f, formStatus(c, f, false), "")
}

// renderProfile shows the account page; newToken is an API token just
// created, shown this once.
func (s *Server) renderProfile(c echo.Context, f *form, status int, newToken string) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	layers, err := s.store.LayersMaintainedBy(ctx, u.Email)
	if err != nil {
		return err
	}
	tokens, err := s.store.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	data := struct {
		formData
		Layers   []store.Layer
		Tokens   []store.APIToken
		NewToken string
	}{formData{pageData: s.formPage(c), Form: f}, layers, tokens, newToken}
	return s.pages.render(c, status, "profile", data)
}

// checkCurrentPassword checks the "current" field of a signed-in user's
// form. Wrong passwords count against the account's re-authentication
// limit, not its login limit: the user is signed in, so a lockout of
// password login (anyone can cause one by guessing) must not block them,
// while a stolen session still cannot guess the password more than a few
// times. limited reports that the limit refused the attempt.
func (s *Server) checkCurrentPassword(c echo.Context, f *form, u *store.User) (limited bool, err error) {
	ctx := c.Request().Context()
	reauth := limitCheck{s.acct.limits.ReauthPerAccount, strconv.FormatInt(u.ID, 10)}
	msg, err := s.limited(ctx, reauth)
	if err != nil {
		return false, err
	}
	if msg != "" {
		f.fail("current", "%s", msg)
		return true, nil
	}
	if !auth.CheckPassword(f.V("current"), u.PasswordHash) {
		f.fail("current", "This is not your current password.")
		return false, s.hit(ctx, reauth)
	}
	// The owner proved the password: earlier typos are forgiven.
	return false, s.acct.limiter.Reset(ctx, reauth.lim, reauth.key)
}

func (s *Server) passwordChange(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	f := newForm(nil)
	limited := false
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		var err error
		if limited, err = s.checkCurrentPassword(c, f, u); err != nil {
			return err
		}
		f.set("current", "")
		pw := newPassword(f)
		if f.OK() {
			hash, err := auth.HashPassword(pw)
			if err != nil {
				return err
			}
			err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
				if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
					return err
				}
				return s.enqueueMail(tx, "password_changed", []string{u.Email}, nil)
			})
			if err != nil {
				return err
			}
			if err := s.acct.sessions.EndOtherSessions(ctx, u.ID); err != nil {
				return err
			}
			s.flash(c, "Your password is changed; your other sessions were logged out.")
			return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
		}
	}
	return s.pages.render(c, formStatus(c, f, limited), "passwordchange", &formData{pageData: s.formPage(c), Form: f})
}

func (s *Server) emailChange(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	f := newForm(nil)
	limited := false
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		email := f.email("email", true)
		if f.OK() && store.NormalizeEmail(email) == store.NormalizeEmail(u.Email) {
			f.fail("email", "This is already your address.")
		}
		var err error
		if limited, err = s.checkCurrentPassword(c, f, u); err != nil {
			return err
		}
		f.set("current", "")
		if f.OK() {
			err := s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
				if _, err := tx.UserByEmail(ctx, email); err == nil {
					// Taken: tell the address's owner, not the asker.
					return s.enqueueMail(tx, "register_exists", []string{email}, nil)
				}
				return s.mailToken(ctx, tx, u, store.TokenEmail, email)
			})
			if err != nil {
				return err
			}
			s.flash(c, "We have sent a confirmation link to %s. Your address changes when you open it.", email)
			return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
		}
	}
	return s.pages.render(c, formStatus(c, f, limited), "emailchange", &formData{pageData: s.formPage(c), Form: f})
}

func (s *Server) deleteAccount(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	f := newForm(nil)
	limited := false
	data := &formData{Form: f}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		data.Form = f
		var err error
		if limited, err = s.checkCurrentPassword(c, f, u); err != nil {
			return err
		}
		f.set("current", "")
		if u.IsAdmin {
			admins, err := s.store.ActiveAdmins(ctx)
			if err != nil {
				return err
			}
			if len(admins) <= 1 {
				f.fail("current", "You are the only administrator: make another account an administrator first.")
			}
		}
		if f.OK() {
			if err := s.store.DeleteUser(ctx, u.ID); err != nil {
				return err
			}
			if err := s.acct.sessions.LogOut(ctx); err != nil {
				return err
			}
			return s.notice(c, http.StatusOK, "Account deleted",
				"Your account is deleted. Layers you submitted or maintain stay in the index.")
		}
	}
	data.pageData = s.formPage(c)
	return s.pages.render(c, formStatus(c, f, limited), "deleteaccount", data)
}
