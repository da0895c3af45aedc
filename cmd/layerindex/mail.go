package main

import (
	"layerindex/internal/jobs"
	"layerindex/internal/mail"
)

// mailOptions configures the mail worker from the SMTP settings: without a
// host, mail is logged and kept in the outbox table.
func (a *app) mailOptions() jobs.MailOptions {
	opts := jobs.MailOptions{From: a.cfg.MailFrom}
	sealer, err := mail.NewSealer(a.cfg.SecretKey)
	if err != nil {
		a.log.Error("mail cannot be sent", "err", err)
		return opts
	}
	opts.Sealer = sealer
	if a.cfg.SMTPHost == "" {
		return opts
	}
	smtp, err := mail.NewSMTP(mail.Config{Host: a.cfg.SMTPHost, Port: a.cfg.SMTPPort, TLS: a.cfg.SMTPTLS,
		User: a.cfg.SMTPUser, Password: a.cfg.SMTPPassword, From: a.cfg.MailFrom})
	if err != nil {
		a.log.Error("SMTP settings unusable; mail is logged instead", "err", err)
		return opts
	}
	opts.Sender = smtp
	return opts
}
