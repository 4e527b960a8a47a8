// Package installer puts a verified payload onto a target drive in the
// installed disk layout (version 2, DESIGN.md), reads what an earlier
// installation left (layout 2 settings and licenses, layout 1 licenses),
// backs it up outside the target, migrates it, and restores backups. It does
// not decide how the user is asked (tui, cmd/osc) nor verify signatures
// (images).
package installer

import (
	"fmt"

	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// LayoutVersion is the version of the disk layout Install writes.
const LayoutVersion = 2

// Partition labels of layout 2, and the FAT label of layout 1.
const (
	LabelESP    = "ONRAMP-ESP"
	LabelBIOS   = "ONRAMP-BIOS"
	LabelSysA   = "ONRAMP-SYS-A"
	LabelSysB   = "ONRAMP-SYS-B"
	LabelData   = "ONRAMP-DATA"
	LabelLegacy = "ONRAMP11"
)

const (
	mib      = int64(1) << 20
	espSize  = 256 * mib
	biosSize = 1 * mib
	// minDataSize keeps room for settings, licenses and a few apps.
	minDataSize = 512 * mib
	// gptReserveSectors is what the backup GPT takes at the end of the disk
	// with 512-byte sectors (header and 128 entries of 128 bytes); with
	// 4096-byte sectors it is more than enough.
	gptReserveSectors = 33
)

// Part is one partition of the layout, in bytes.
type Part struct {
	Number int      `json:"number"`
	Label  string   `json:"label"`
	Type   gpt.Type `json:"type"`
	Start  int64    `json:"start"`
	Size   int64    `json:"size"`
}

// End is the first byte after the partition.
func (p Part) End() int64 { return p.Start + p.Size }

// Layout is the planned partitioning of one disk.
type Layout struct {
	DiskSize   int64  `json:"disk_size"`
	SectorSize int    `json:"sector_size"` // logical sector size of the target
	Parts      []Part `json:"partitions"`
}

// PlanLayout lays out layout 2 on a disk of diskSize bytes with system slots
// of slotSize bytes: GPT, every partition starting and ending on a MiB
// boundary, DATA taking the rest. A disk too small is Refused.
func PlanLayout(diskSize int64, sectorSize int, slotSize int64) (Layout, error) {
	if slotSize <= 0 || slotSize%mib != 0 {
		return Layout{}, fmt.Errorf("slot size %d is not a positive multiple of 1 MiB", slotSize)
	}
	need := mib + espSize + biosSize + 2*slotSize + minDataSize + mib
	if diskSize < need {
		return Layout{}, exitcode.New(exitcode.Refused, "the target holds %s; this system needs at least %s",
			blockdev.HumanSize(diskSize), blockdev.HumanSize(need))
	}
	if sectorSize != 512 && sectorSize != 4096 {
		return Layout{}, exitcode.New(exitcode.Refused, "logical sector size %d is not supported (512 or 4096)", sectorSize)
	}
	l := Layout{DiskSize: diskSize, SectorSize: sectorSize}
	next := mib
	add := func(label string, typ gpt.Type, size int64) {
		l.Parts = append(l.Parts, Part{Number: len(l.Parts) + 1, Label: label, Type: typ, Start: next, Size: size})
		next += size
	}
	add(LabelESP, gpt.EFISystemPartition, espSize)
	add(LabelBIOS, gpt.BIOSBoot, biosSize)
	add(LabelSysA, gpt.LinuxRootX86_64, slotSize)
	add(LabelSysB, gpt.LinuxFilesystem, slotSize)
	end := (diskSize - gptReserveSectors*int64(sectorSize)) / mib * mib
	add(LabelData, gpt.LinuxFilesystem, end-next)
	return l, nil
}

// Part returns the partition labelled label.
func (l Layout) Part(label string) Part {
	for _, p := range l.Parts {
		if p.Label == label {
			return p
		}
	}
	panic("installer: layout has no partition " + label)
}

// table is the GPT of the layout for go-diskfs.
func (l Layout) table() *gpt.Table {
	sector := int64(l.SectorSize)
	t := &gpt.Table{LogicalSectorSize: l.SectorSize, PhysicalSectorSize: l.SectorSize, ProtectiveMBR: true}
	for _, p := range l.Parts {
		t.Partitions = append(t.Partitions, &gpt.Partition{
			Index: p.Number,
			Start: uint64(p.Start / sector),
			End:   uint64(p.End()/sector - 1),
			Size:  uint64(p.Size),
			Type:  p.Type,
			Name:  p.Label,
		})
	}
	return t
}
