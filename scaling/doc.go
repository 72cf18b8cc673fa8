// Package scaling recommends and carries out horizontal and vertical
// scaling, reactively and predictively, with plans, verification and
// rollback.
//
// This package is being built; it will hold the strategies, the engine and
// the simulator.
package scaling
