// Command scale fills a database with a synthetic index the size of the
// public layer index (layers.openembedded.org) across its release
// branches: by default 400 layers on 6 branches, 45,000 recipes on the newest
// branch (over 250,000 in all), written through the same store calls the
// ingestion uses. The shapes are those of the real index: a few big layers
// (oe-core and meta-oe have about a thousand recipes each) and a long tail
// of small BSP and software layers (layer sizes fall off as a power law);
// recipe names built from the real index's common stems and prefixes
// (lib*, python3-*, perl-*, gst*, font-*, *-native variants…); summaries
// and descriptions drawn from a vocabulary with Zipf frequencies, so common
// words match thousands of recipes and rare ones a few; dependencies that
// concentrate on popular recipes (zlib, openssl, glib-2.0…); classes
// inherited with real frequencies; sources, PACKAGECONFIGs, patches,
// machines, classes and bbappends. The output is deterministic.
//
// Usage: scale [-layers N] [-branches N] [-recipes N] -data-dir DIR | -database-url postgres://...
// bench/miss.sh runs it with WEBDATA=scale.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net/url"
	"runtime"
	"strings"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

func main() {
	dataDir := flag.String("data-dir", "", "SQLite data directory (as layerindex serve --data-dir)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL")
	nLayers := flag.Int("layers", 400, "published layers")
	nBranches := flag.Int("branches", 6, "release branches")
	perBranch := flag.Int("recipes", 45000, "recipes on the newest branch (older ones hold fewer)")
	flag.Parse()
	ctx := context.Background()
	var (
		conn *db.DB
		err  error
	)
	if *dbURL != "" {
		conn, err = db.OpenPostgres(ctx, *dbURL, nil)
	} else {
		if _, err = db.PrepareDataDir(*dataDir); err == nil {
			conn, err = db.OpenSQLite(ctx, db.SQLitePath(*dataDir), nil)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Migrate(ctx, nil); err != nil {
		log.Fatal(err)
	}
	if conn.Dialect == db.Postgres {
		// A fresh bulk load: the per-row deferred index_state triggers and
		// foreign-key checks (session_replication_role=replica skips both;
		// the generator writes consistent rows) and a WAL flush per commit
		// (synchronous_commit=off) are most of the database's work. The
		// index version is bumped once at the end instead.
		conn.Close()
		if conn, err = db.OpenPostgres(ctx, withParams(*dbURL, "session_replication_role=replica", "synchronous_commit=off"), nil); err != nil {
			log.Fatal(err)
		}
	}
	t0 := time.Now()
	g := newGen(*nLayers, *nBranches, *perBranch)
	if err := g.write(ctx, store.New(conn.Gorm)); err != nil {
		log.Fatal(err)
	}
	if conn.Dialect == db.Postgres {
		// Replica mode skipped the trigger that gives each recipe its
		// branch (migration 00023), which searches read.
		if err := conn.Gorm.Exec(`UPDATE recipes SET branch_id = lb.branch_id FROM layer_branches lb
WHERE lb.id = recipes.layer_branch_id AND recipes.branch_id IS NULL`).Error; err != nil {
			log.Fatal(err)
		}
		if err := conn.Gorm.Exec("UPDATE index_state SET version = version + 1, changed_at = now() WHERE id = 1").Error; err != nil {
			log.Fatal(err)
		}
	}
	// Planner statistics, as after a long-running index (both databases
	// choose between walking an index in order and sorting by them), and on
	// PostgreSQL what autovacuum does on a production server (the benchmark
	// machines run it with autovacuum off): without it the rows rewritten
	// while loading stay in every scan as dead versions.
	analyze := "ANALYZE"
	if conn.Dialect == db.Postgres {
		analyze = "VACUUM ANALYZE"
	}
	if err := conn.Gorm.Exec(analyze).Error; err != nil {
		log.Fatal(err)
	}
	var n int64
	conn.Gorm.Model(&store.Recipe{}).Count(&n)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("loaded %d layers x %d branches, %d recipes in %s (generator peak heap %d MB)\n",
		*nLayers, *nBranches, n, time.Since(t0).Round(time.Millisecond), ms.HeapSys>>20)
}

// Real branch names, newest first.
var branchNames = []string{"master", "styhead", "scarthgap", "nanbield", "mickledore", "langdale", "kirkstone", "honister", "hardknott", "gatesgarth"}

// Stems of real recipe names; prefixes and suffixes make the families.
var stems = strings.Fields(`zlib openssl glib gtk qt dbus systemd curl wget bash busybox coreutils util-linux
e2fsprogs xz bzip2 lz4 zstd libxml2 libxslt expat sqlite python perl ruby nodejs go rust llvm clang gcc
binutils gdb strace valgrind ncurses readline gettext libffi libpng libjpeg tiff freetype fontconfig cairo
pango harfbuzz pixman mesa wayland weston xserver libdrm alsa pulseaudio pipewire gstreamer ffmpeg
v4l-utils bluez networkmanager connman dhcpcd iproute2 iptables nftables openssh dropbear nginx apache
lighttpd php mariadb postgresql redis mosquitto protobuf grpc boost poco json-c jansson yaml-cpp cjson
libevent libuv c-ares nghttp2 gnutls nettle gmp mpfr libgcrypt libgpg-error libtasn1 p11-kit ca-certificates
tzdata shadow sudo pam kmod udev eudev lvm2 cryptsetup mdadm parted dosfstools mtd-utils u-boot grub
efivar opensbi trusted-firmware optee linux-firmware wpa-supplicant hostapd iw wireless-regdb can-utils
i2c-tools spidev libgpiod libusb usbutils pciutils dmidecode lmsensors htop tmux vim nano less file
findutils grep sed gawk diffutils patch make cmake meson ninja autoconf automake libtool pkgconfig
flex bison m4 texinfo help2man docbook asciidoc doxygen graphviz swig chrony ntp rsyslog logrotate cronie
at avahi samba nfs-utils rpcbind cifs-utils fuse sshfs rsync lsof tcpdump wireshark nmap iperf ethtool
libnl libpcap libseccomp libcap audit selinux apparmor smack ima tpm2-tss tpm2-tools opencv tensorflow
onnxruntime eigen blas lapack fftw gsl hdf5 netcdf proj gdal geos qtbase qtdeclarative qtwayland kde
plasma xfce4 lxqt mate gnome-shell mutter nautilus epiphany webkitgtk chromium firefox thunderbird`)

var prefixes = []string{"", "", "", "", "lib", "python3-", "perl-", "gst-plugins-", "font-", "nodejs-", "rust-", "go-", "ruby-", "xf86-video-", "kernel-module-", "packagegroup-"}
var suffixes = []string{"", "", "", "", "", "-utils", "-tools", "-dev", "-plugins", "-bindings", "-daemon", "-extra", "-examples", "-tests", "-doc"}

// Words of summaries and descriptions, most frequent first.
var vocabulary = strings.Fields(`library the for and of a to support tool tools utilities utility daemon
network file system data python module package plugin plugins server client interface image kernel driver
drivers linux embedded open source implementation simple fast small lightweight framework api bindings
command line graphics audio video display device devices configuration management service protocol
parser compression encryption security test tests testing development documentation firmware boot
bootloader hardware board platform toolkit widget desktop web http json xml yaml database storage
filesystem memory performance monitoring logging debugging analysis build cross compiler runtime
virtual machine container cloud wireless bluetooth usb serial gpio i2c spi can ethernet ip tcp udp dns
dhcp ssh tls ssl crypto certificate authentication user users password shell terminal editor text font
fonts theme icons multimedia streaming codec codecs camera sensor sensors power battery thermal clock
time timezone locale language translation unicode regular expression math numeric scientific machine
learning neural inference vision speech robot automotive industrial medical iot gateway router switch
firewall vpn proxy cache queue message broker event loop async thread pool scheduler real-time rtos
minimal extended full generic common core base extra optional legacy modern portable reliable secure`)

// Classes with roughly their share of recipes inheriting them.
var classes = []struct {
	name  string
	share float64
}{{"pkgconfig", 0.45}, {"autotools", 0.3}, {"cmake", 0.15}, {"meson", 0.1}, {"setuptools3", 0.08},
	{"python3native", 0.1}, {"gettext", 0.12}, {"systemd", 0.1}, {"update-rc.d", 0.06}, {"cpan", 0.04},
	{"gobject-introspection", 0.05}, {"qemu", 0.02}, {"useradd", 0.04}, {"features_check", 0.08},
	{"pypi", 0.07}, {"cargo", 0.03}, {"go-mod", 0.02}, {"npm", 0.01}, {"kernel", 0.005}, {"image", 0.01}}

type gen struct {
	layers, branches, perBranch int
	rng                         *rand.Rand
	zipf                        *rand.Zipf // word ranks
	popular                     []string   // dependency targets, most depended on first
	layerSize                   []int
}

func newGen(layers, branches, perBranch int) *gen {
	g := &gen{layers: layers, branches: branches, perBranch: perBranch, rng: rand.New(rand.NewPCG(13, 400))}
	g.zipf = rand.NewZipf(g.rng, 1.1, 2, uint64(len(vocabulary)-1))
	// Layer sizes fall off as a power law: the biggest has ~1,650 recipes
	// with the defaults, the 100th ~100, the last ~45.
	var sum float64
	w := make([]float64, layers)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i+1), 0.6)
		sum += w[i]
	}
	for i := range w {
		g.layerSize = append(g.layerSize, max(3, int(w[i]/sum*float64(perBranch))))
	}
	g.popular = []string{"zlib", "openssl", "glib-2.0", "libxml2", "dbus", "systemd", "curl", "python3", "ncurses",
		"readline", "libffi", "util-linux", "expat", "sqlite3", "gettext-native", "pkgconfig-native", "virtual/libc",
		"virtual/kernel", "libpng", "jpeg", "freetype", "fontconfig", "cairo", "gtk+3", "qtbase", "boost", "json-c"}
	return g
}

// text draws n words.
func (g *gen) text(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = vocabulary[g.zipf.Uint64()]
	}
	return strings.Join(ws, " ")
}

// recipeNames are the PNs of layer li, the same on every branch.
func (g *gen) recipeNames(li int) []string {
	rng := rand.New(rand.NewPCG(uint64(li), 7))
	seen := map[string]bool{}
	var out []string
	if li == 0 { // the core layer provides what everything depends on
		for _, d := range g.popular {
			if pn, ok := strings.CutSuffix(d, "-native"); ok || !strings.HasPrefix(d, "virtual/") {
				if !ok {
					pn = d
				}
				if !seen[pn] {
					seen[pn] = true
					out = append(out, pn)
				}
			}
		}
	}
	for len(out) < g.layerSize[li] {
		pn := prefixes[rng.IntN(len(prefixes))] + stems[rng.IntN(len(stems))] + suffixes[rng.IntN(len(suffixes))]
		if seen[pn] {
			pn = fmt.Sprintf("%s%d", pn, rng.IntN(100))
			if seen[pn] {
				continue
			}
		}
		seen[pn] = true
		out = append(out, pn)
	}
	return out
}

func (g *gen) write(ctx context.Context, s *store.Store) error {
	var branches []*store.Branch
	for i := range g.branches {
		name := branchNames[i%len(branchNames)]
		if i >= len(branchNames) {
			name = fmt.Sprintf("%s%d", name, i)
		}
		prio := i + 1
		b := &store.Branch{Name: name, BitbakeBranch: name, SortPriority: &prio, UpdatesEnabled: true,
			ShortDescription: fmt.Sprintf("Release %d", g.branches-i)}
		if err := s.CreateBranch(ctx, b); err != nil {
			return err
		}
		branches = append(branches, b)
	}
	var coreID int64
	types := []string{store.TypeBSP, store.TypeSoftware, store.TypeSoftware, store.TypeBSP, store.TypeMisc, store.TypeDistro}
	started := time.Now()
	for li := range g.layers {
		name := fmt.Sprintf("meta-%s-%d", strings.ReplaceAll(stems[li%len(stems)], "/", "-"), li)
		typ := types[li%len(types)]
		if li == 0 {
			name, typ = "openembedded-core", store.TypeBase
		}
		l := &store.Layer{Name: name, Status: store.StatusPublished, LayerType: typ,
			Summary: strings.ToUpper(name[:1]) + name[1:] + ": " + g.text(6), Description: g.text(40),
			VCSURL:            "https://git.example.org/" + name + ".git",
			VCSWebFileBaseURL: "https://git.example.org/" + name + "/tree/%path%?h=%branch%"}
		if err := s.CreateLayer(ctx, l); err != nil {
			return err
		}
		if li == 0 {
			coreID = l.ID
		}
		pns := g.recipeNames(li)
		for bi, b := range branches {
			// Older branches hold fewer of a layer's recipes.
			n := len(pns) - len(pns)*bi/(g.branches*8)
			if err := g.writeLayerBranch(ctx, s, l, b, bi, li, pns[:n], coreID); err != nil {
				return fmt.Errorf("%s on %s: %w", name, b.Name, err)
			}
		}
		if li%50 == 49 {
			log.Printf("%d layers written in %s", li+1, time.Since(started).Round(time.Second))
		}
	}
	return nil
}

func (g *gen) writeLayerBranch(ctx context.Context, s *store.Store, l *store.Layer, b *store.Branch, bi, li int, pns []string, coreID int64) error {
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, UpdatesEnabled: true}
	if err := s.CreateLayerBranch(ctx, lb); err != nil {
		return err
	}
	if err := s.SetIndexedState(ctx, lb.ID, store.IndexedState{Collection: strings.TrimPrefix(l.Name, "meta-"),
		Version: "1", Rev: fmt.Sprintf("%040x", lb.ID*7919), CommitTime: time.Now().Add(-time.Duration(li) * time.Hour)}); err != nil {
		return err
	}
	if coreID != l.ID {
		if err := s.SetDependencies(ctx, lb.ID, []store.LayerDependency{{DependencyID: coreID, Required: true}}); err != nil {
			return err
		}
	}
	if err := s.SetMaintainers(ctx, lb.ID, []store.LayerMaintainer{{Name: "Maintainer " + l.Name, Email: fmt.Sprintf("m%d@example.org", li)}}); err != nil {
		return err
	}
	ch := &store.IndexChange{Full: true}
	for ri, pn := range pns {
		pv := fmt.Sprintf("%d.%d.%d", 1+ri%5, (ri+li)%20, g.branches-bi)
		var deps []string
		for range g.rng.IntN(7) {
			// Popular targets get most edges; the rest go to this layer's own.
			if g.rng.IntN(3) > 0 {
				deps = append(deps, g.popular[int(g.zipf.Uint64())%len(g.popular)])
			} else {
				deps = append(deps, pns[g.rng.IntN(len(pns))])
			}
		}
		dir := "recipes-" + vocabulary[int(g.zipf.Uint64())%60] + "/" + pn
		r := storetest.Recipe(dir, pn+"_"+pv+".bb", pn, pv, g.text(3+g.rng.IntN(6)), []string{"MIT", "GPL-2.0-only", "Apache-2.0", "BSD-3-Clause", "LGPL-2.1-or-later"}[g.rng.IntN(5)],
			deps, fmt.Sprintf("https://downloads.example.org/%s/%s-%s.tar.gz", pn, pn, pv))
		r.Recipe.Description = g.text(15 + g.rng.IntN(60))
		var inh []string
		for _, c := range classes {
			if g.rng.Float64() < c.share {
				inh = append(inh, c.name)
			}
		}
		r.Recipe.Inherits = strings.Join(inh, " ")
		if g.rng.IntN(4) == 0 {
			r.Recipe.BBClassExtend = "native nativesdk"
		}
		if g.rng.IntN(3) > 0 {
			r.PackageConfigs = nil
		}
		for p := range g.rng.IntN(4) {
			order := p
			r.Patches = append(r.Patches, store.RecipePatch{Path: fmt.Sprintf("%s/files/%04d-fix-%s.patch", dir, p+1, vocabulary[g.rng.IntN(len(vocabulary))]),
				Status: []string{"Pending", "Backport", "Inappropriate", "Submitted", "Upstream"}[g.rng.IntN(5)], ApplyOrder: &order, Applied: true, Striplevel: 1})
		}
		ch.Upserts = append(ch.Upserts, r)
	}
	if l.LayerType == store.TypeBSP {
		for mi := range 1 + li%4 {
			ch.Machines = append(ch.Machines, store.Machine{Name: fmt.Sprintf("%s-board%d", strings.TrimPrefix(l.Name, "meta-"), mi), Description: "Board " + g.text(4)})
		}
	}
	ch.Classes = []store.BBClass{{Name: strings.TrimPrefix(l.Name, "meta-") + "-helper", BBClassType: "Recipe"}}
	// Some layers append to popular core recipes.
	if li > 0 && li%5 == 0 {
		for ai := range 1 + li%3 {
			ch.Appends = append(ch.Appends, store.BBAppend{Filepath: "recipes-core/" + g.popular[ai], Filename: g.popular[ai] + "_%.bbappend"})
		}
	}
	_, err := s.ApplyIndex(ctx, lb.ID, ch)
	return err
}

// withParams adds run-time parameters to a PostgreSQL URL.
func withParams(raw string, params ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
