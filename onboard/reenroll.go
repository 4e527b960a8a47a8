package onboard

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
)

// Reenroll renews the device certificate with simplereenroll: the session
// authenticates with the saved key and certificate (mutual TLS) and trusts
// only the saved root; a new key replaces the old one.
func (c *Client) Reenroll(ctx context.Context) (Result, error) {
	en, err := LoadEnrollment(c.root)
	if err != nil {
		return Result{}, err
	}
	if err := c.checkWritable(); err != nil {
		return Result{}, err
	}
	root := en.Chain[len(en.Chain)-1]
	cfg := trustOnly(root, en.Chain, en.Info.Server)
	cfg.Certificates = []tls.Certificate{en.Cert}
	t := &estTarget{
		base:   "https://" + net.JoinHostPort(en.Info.Server, strconv.Itoa(en.Info.Port)) + estPath,
		root:   root,
		chain:  en.Chain,
		client: c.httpClient(cfg, umsCodes, true),
	}
	defer closeIdle(t.client)
	unitID := en.Info.UnitID
	key, csr, err := newKeyAndCSR(unitID)
	if err != nil {
		return Result{}, err
	}
	leaf, err := c.enroll(ctx, t, "simplereenroll", unitID, "", key, csr)
	if err != nil {
		return Result{}, err
	}
	info := en.Info
	info.Serial = leaf.SerialNumber.Text(16)
	info.EnrolledAt = c.now().UTC()
	path, err := c.save(key, leaf, en.Chain, info)
	if err != nil {
		return Result{}, err
	}
	c.log.Info("re-enrolled", "unit_id", unitID, "serial", info.Serial)
	return Result{Server: info.Server, Port: info.Port, UnitID: unitID, CertPath: path}, nil
}
