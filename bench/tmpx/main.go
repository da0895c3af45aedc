package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"layerindex/internal/db"
)

func main() {
	ctx := context.Background()
	conn, err := db.OpenSQLite(ctx, db.SQLitePath("/tmp/bd"), nil)
	if err != nil {
		panic(err)
	}
	q := os.Args[1]
	rows, err := conn.SQL.Query("EXPLAIN QUERY PLAN " + q)
	if err != nil {
		panic(err)
	}
	for rows.Next() {
		var a, b, c int
		var d string
		rows.Scan(&a, &b, &c, &d)
		fmt.Println(d)
	}
	t0 := time.Now()
	for i := 0; i < 10; i++ {
		r, err := conn.SQL.Query(q)
		if err != nil {
			panic(err)
		}
		n := 0
		for r.Next() {
			n++
		}
		r.Close()
		if i == 0 {
			fmt.Println("rows", n)
		}
	}
	fmt.Println("per query", time.Since(t0)/10)
}
